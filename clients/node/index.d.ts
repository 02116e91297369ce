// Types of redis-sessions-module: the redis-sessions 4.0 API.
import type { RedisClientOptions } from "redis";

export interface RedisSessionsOptions {
  port?: number;
  host?: string;
  /** node-redis options; `options.url` is used as is. */
  options?: RedisClientOptions;
  /** Used only for the cache's invalidation channel (`<namespace>:cache`). */
  namespace?: string;
  /** Accepted and ignored: the module expires sessions in the server. */
  wipe?: number;
  cachetime?: number;
  cachemax?: number;
  /** An existing node-redis client or cluster (createCluster); not closed by quit(). */
  client?: unknown;
  /** Set when `client` is a cluster the client does not recognise as one. */
  cluster?: boolean;
}

export interface Session<D = Record<string, string | number | boolean>> {
  id: string;
  r: number;
  w: number;
  ttl: number;
  idle: number;
  ip: string;
  no_resave?: true;
  d?: D;
}

type Callback<T> = (error: Error | null, result?: T) => void;
type Data = Record<string, string | number | boolean | null>;

declare class RedisSessions<D = Record<string, string | number | boolean>> {
  constructor(options?: RedisSessionsOptions);
  create(o: { app: string; id: string; ip: string; ttl?: number; d?: Data; no_resave?: boolean }, cb?: Callback<{ token: string }>): Promise<{ token: string }>;
  get(o: { app: string; token: string }, cb?: Callback<Session<D> | null>): Promise<Session<D> | null>;
  set(o: { app: string; token: string; d: Data; no_resave?: boolean }, cb?: Callback<Session<D> | null>): Promise<Session<D> | null>;
  kill(o: { app: string; token: string }, cb?: Callback<{ kill: number }>): Promise<{ kill: number }>;
  killall(o: { app: string }, cb?: Callback<{ kill: number }>): Promise<{ kill: number }>;
  killsoid(o: { app: string; id: string }, cb?: Callback<{ kill: number }>): Promise<{ kill: number }>;
  soid(o: { app: string; id: string }, cb?: Callback<{ sessions: Session<D>[] }>): Promise<{ sessions: Session<D>[] }>;
  soapp(o: { app: string; deltaTime: number }, cb?: Callback<{ sessions: Session<D>[] }>): Promise<{ sessions: Session<D>[] }>;
  activity(o: { app: string; deltaTime: number }, cb?: Callback<{ activity: number }>): Promise<{ activity: number }>;
  ping(cb?: Callback<string>): Promise<string>;
  quit(cb?: Callback<void>): Promise<void>;
}

export default RedisSessions;
export { RedisSessions };
