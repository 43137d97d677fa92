/**
 * The SDK as it was before the two-tab fix, for the two-tab row's "without the change": the sources of
 * `packages/sdk` at the parent of the commit that brought the Web Lock and the re-read of localStorage
 * (8e8007a, "one id across tabs"), taken with `git archive` into a temporary directory outside the
 * repository and built there by the repository's own tsup with that commit's tsup.config.ts (type
 * declarations skipped: the page needs only the JavaScript). Its dependencies (FingerprintJS, and
 * `@devicelink/protocol`, which tsup bundles in) resolve through a link to the current SDK's
 * node_modules. The directory is removed by `close()`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The parent of 8e8007a (sdk: "... one id across tabs (Web Lock, re-read while fresh) ..."). */
const BEFORE_TWO_TAB_FIX = '886f4892ba44f641b7f847edf5a3b030f9d82c9f';

const REPO = join(import.meta.dirname, '..', '..', '..');
const CURRENT_SDK = join(REPO, 'packages', 'sdk');

/** A built older SDK: its `dist`. */
export interface OldSdk {
  commit: string;
  dist: string;
  close(): Promise<void>;
}

/** Builds `packages/sdk` of `commit` (default {@link BEFORE_TWO_TAB_FIX}); throws when git cannot. */
export async function buildOldSdk(commit = BEFORE_TWO_TAB_FIX): Promise<OldSdk> {
  const dir = await mkdtemp(join(tmpdir(), 'devicelink-idbench-oldsdk-'));
  try {
    // git archive | tar -x: the tree of that commit, nothing of the work tree.
    const tar = execFileSync('git', ['-C', REPO, 'archive', '--format=tar', commit, 'packages/sdk'], {
      maxBuffer: 64 * 2 ** 20,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    const sdk = join(dir, 'packages', 'sdk');
    await symlink(join(CURRENT_SDK, 'node_modules'), join(sdk, 'node_modules'), 'dir');
    const tsup = join(CURRENT_SDK, 'node_modules', 'tsup', 'dist', 'cli-default.js');
    execFileSync(process.execPath, [tsup, '--no-dts'], { cwd: sdk, stdio: 'pipe' });
    const dist = join(sdk, 'dist');
    if (!existsSync(join(dist, 'index.js')) || !existsSync(join(dist, 'axios.js'))) {
      throw new Error(`the SDK of ${commit.slice(0, 7)} built no dist/index.js and dist/axios.js`);
    }
    return { commit, dist, close: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
