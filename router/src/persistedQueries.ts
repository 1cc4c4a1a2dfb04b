import { createHash } from 'node:crypto';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { GraphQLError } from 'graphql';

/** Apollo Server's prefix for automatic persisted queries in its cache. */
const PREFIX = 'apq:';

interface PersistedQueryExtension {
  version?: unknown;
  sha256Hash?: unknown;
}

/**
 * Automatic persisted queries, shared by Apollo Server (queries and mutations) and
 * the router's own HTTP subscription path, which takes subscriptions before Apollo
 * Server sees them: one cache, so a subscription registered once is served from its
 * hash alone afterwards, like every other operation.
 */
export class PersistedQueries {
  /** Handed to Apollo Server as `persistedQueries.cache` (it adds the same prefix). */
  readonly cache: KeyValueCache<string>;

  constructor(cache: KeyValueCache<string> = new InMemoryLRUCache<string>({ maxSize: 16 * 1024 * 1024 })) {
    this.cache = cache;
  }

  /**
   * The query a request stands for. A hash with a query is checked (a mismatch is a
   * client error, PERSISTED_QUERY_HASH_MISMATCH, never a masked internal one) and
   * registered; a hash alone is looked up. Undefined when it is not known here:
   * Apollo Server then answers PERSISTED_QUERY_NOT_FOUND as usual.
   */
  async resolve(request: { query?: unknown; extensions?: unknown }): Promise<{ query: string | undefined }> {
    const persisted = (request.extensions as { persistedQuery?: PersistedQueryExtension } | undefined)
      ?.persistedQuery;
    if (persisted?.version !== 1 || typeof persisted.sha256Hash !== 'string') {
      return { query: typeof request.query === 'string' ? request.query : undefined };
    }
    const hash = persisted.sha256Hash;
    if (typeof request.query === 'string') {
      if (createHash('sha256').update(request.query).digest('hex') !== hash) {
        throw new GraphQLError('The persisted query hash does not match the query.', {
          extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH', http: { status: 400 } },
        });
      }
      return { query: request.query };
    }
    return { query: await this.cache.get(PREFIX + hash) };
  }

  /** Registers a query under its hash (only after it was checked by `resolve`). */
  async register(hash: string, query: string): Promise<void> {
    await this.cache.set(PREFIX + hash, query);
  }
}
