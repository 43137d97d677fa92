// Vitest global setup: a three-node Redis Cluster for the plugin's Cluster tests (see @devicelink/test-env).
import { redisClusterGlobalSetup } from '@devicelink/test-env';

export default redisClusterGlobalSetup('fastify');
