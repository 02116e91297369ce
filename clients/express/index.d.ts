// Types of sess-express-store: an express-session store on the SESS.* module.
import { SessionData, Store } from "express-session";

type Callback<T = void> = (error?: any, result?: T) => void;

export interface Serializer {
  /** Turns one top-level value of the session into text (default JSON.stringify). */
  stringify(value: unknown): string;
  /** Turns the text back (default JSON.parse); may return a promise. */
  parse(text: string): unknown | Promise<unknown>;
}

export interface SessStoreOptions {
  /**
   * A connected client: node-redis v4 or later (createClient, or a cluster from
   * createCluster) or ioredis (Redis, or Redis.Cluster). Never connected,
   * closed or given listeners by the store.
   */
  client: unknown;
  /** The module's app the sessions live in: 3-20 characters of A-Z a-z 0-9 _ - */
  app: string;
  /**
   * The user a session belongs to. Default: `session.passport?.user`, else
   * `session.userId`. `undefined`, `null` or `""` = anonymous (each anonymous
   * session is its own user `anon:<22 characters of its handle>`); numbers
   * become strings, objects JSON. Must fit the module's id rule (1-128 bytes,
   * no control characters).
   */
  userId?: (session: SessionData & Record<string, any>) => unknown;
  /**
   * Idle lifetime in seconds: a number used when the cookie has no expiry
   * (default 86400), or a function of the session that always decides.
   * Without a function the cookie's expiry decides. Clamped to 10..31536000;
   * an expiry already past destroys the session.
   */
  ttl?: number | ((session: SessionData & Record<string, any>) => number);
  /** Absolute lifetime in seconds from creation, however active (MAXAGE): 10..31536000. */
  absoluteTimeout?: number;
  /** Most concurrent sessions of a user: creating one more removes the least recently active (MAXSESSIONS): 1..10000. */
  maxSessionsPerUser?: number;
  /**
   * The ip stored with a new session. Default: the request's `req.ip`, else
   * `req.socket.remoteAddress`, else "unknown"; control characters dropped,
   * cut to 39 bytes.
   */
  ip?: (session: SessionData & Record<string, any>) => string | undefined;
  /** Reads do not slide the expiry (SESS.PEEK) and touch() does nothing: sessions live `ttl` after their last save. */
  disableTouch?: boolean;
  /** How each top-level value is turned into text and back (default JSON). */
  serializer?: Serializer;
}

/** A session of a user as sessionsOf() lists it. */
export interface SessionEntry<D = SessionData & Record<string, any>> {
  /** The module's token: names the session to destroyHandle(); it is not a cookie value. */
  handle: string;
  ip: string;
  /** Seconds since its last use. */
  idle: number;
  /** Seconds of idleness it is allowed. */
  ttl: number;
  reads: number;
  writes: number;
  /** Seconds left of its absolute lifetime (absoluteTimeout), when it has one. */
  maxage?: number;
  data: D;
}

export declare class SessStore extends Store {
  constructor(options: SessStoreOptions);
  readonly app: string;

  get(sid: string, callback?: Callback<SessionData | null>): Promise<SessionData | null>;
  set(sid: string, session: SessionData, callback?: Callback): Promise<void>;
  touch(sid: string, session: SessionData, callback?: Callback): Promise<void>;
  destroy(sid: string, callback?: Callback): Promise<void>;
  /** Every live session of the app (SESS.SOAPP): O(sessions), like connect-redis's SCAN. */
  all(callback?: Callback<SessionData[]>): Promise<SessionData[]>;
  length(callback?: Callback<number>): Promise<number>;
  /** Removes every session of the app (SESS.KILLALL). */
  clear(callback?: Callback): Promise<void>;

  /** The user's live sessions, most recently active first. */
  sessionsOf(userId: unknown, callback?: Callback<SessionEntry[]>): Promise<SessionEntry[]>;
  /** The handle (module token) of a session id: SHA-512 of the id in base62. */
  handleOf(sid: string): string;
  /** Removes every session of the user, but the one of `except` (a session id); resolves to the number removed. */
  destroyUser(userId: unknown, options?: { except?: string }, callback?: Callback<number>): Promise<number>;
  destroyUser(userId: unknown, callback: Callback<number>): Promise<number>;
  /** Removes the session of a handle; true when a live session was removed. */
  destroyHandle(handle: string, callback?: Callback<boolean>): Promise<boolean>;
  /** Distinct users active in the last `seconds` (10..31536000); each anonymous session counts as one. */
  activity(seconds: number, callback?: Callback<number>): Promise<number>;
}

/** The module token (handle) of a session id. */
export declare function tokenOf(sid: string): string;
/** The symbol under which a loaded or saved session keeps what the store last saw of it. */
export declare const SNAPSHOT: unique symbol;

export default SessStore;
