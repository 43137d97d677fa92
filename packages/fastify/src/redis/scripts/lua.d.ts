/** Lua scripts are imported as their source text (tsup `loader: { '.lua': 'text' }`, vitest `lua-text`). */
declare module '*.lua' {
  const source: string;
  export default source;
}
