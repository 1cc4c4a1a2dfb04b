import { readFileSync } from 'node:fs';
import { type DocumentNode, GraphQLError, parse, print, visit } from 'graphql';

interface ManifestOperation {
  id: string;
  name?: string;
  body: string;
}

/**
 * The document as the safelist compares it: printed canonically, without the
 * `__typename` selections clients add for their caches (Apollo Client adds them to
 * every selection set), so the app's operation matches its manifest entry.
 */
function canonical(document: DocumentNode): string {
  return print(
    visit(document, {
      Field(node) {
        return node.name.value === '__typename' && !node.alias ? null : undefined;
      },
    }),
  );
}

/**
 * Trusted documents: with OPERATION_SAFELIST set, the router serves only the
 * operations of that manifest (Apollo's persisted query manifest format, which
 * `pnpm codegen` writes from schema/operations), sent in full or by their id as a
 * persisted-query hash, on HTTP and WebSocket alike. Anything else is refused before
 * it is planned.
 */
export class OperationSafelist {
  private readonly allowed = new Set<string>();
  private readonly byId = new Map<string, string>();
  // Canonical forms of documents already seen, so each is parsed once.
  private readonly seen = new Map<string, boolean>();

  constructor(operations: readonly ManifestOperation[]) {
    for (const op of operations) {
      this.allowed.add(canonical(parse(op.body)));
      this.byId.set(op.id, op.body);
    }
  }

  static fromFile(path: string): OperationSafelist {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
      format?: string;
      operations?: ManifestOperation[];
    };
    if (manifest.format !== 'apollo-persisted-query-manifest' || !Array.isArray(manifest.operations)) {
      throw new Error(`${path} is not a persisted query manifest (format apollo-persisted-query-manifest).`);
    }
    return new OperationSafelist(manifest.operations);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every listed operation by its id, for the persisted-query cache. */
  entries(): IterableIterator<[string, string]> {
    return this.byId.entries();
  }

  allows(query: string): boolean {
    const known = this.seen.get(query);
    if (known !== undefined) return known;
    let ok = false;
    try {
      ok = this.allowed.has(canonical(parse(query)));
    } catch {
      ok = false; // unparsable: not listed, whatever it is
    }
    if (this.seen.size > 10_000) this.seen.clear();
    this.seen.set(query, ok);
    return ok;
  }

  /** Throws PERSISTED_QUERY_NOT_IN_LIST for a document the manifest does not list. */
  check(query: string): void {
    if (!this.allows(query)) {
      throw new GraphQLError('This operation is not in the list of operations this API serves.', {
        extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST', http: { status: 400 } },
      });
    }
  }
}
