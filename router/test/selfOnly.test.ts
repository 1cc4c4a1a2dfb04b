import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { enforceSelfOnly } from '@fitness/server-kit';
import { CompositionError, composeSupergraph } from '@fitness/tooling';
import { buildASTSchema, execute, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaState } from '../src/subscriptions/schemaState.js';

const HEADER = (imports: string) => `
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}, "@composeDirective"])
  @link(url: "https://fitness.example/self-only/v0.1", import: ["@selfOnly"])
  @composeDirective(name: "@selfOnly")

directive @selfOnly(owner: String) on FIELD_DEFINITION
`;

// The words and the directive deliberately disagree: only the directive may count.
const PROFILES = `${HEADER('"@key"')}
type Query { user(id: ID!): User }
type Subscription { userChanged(id: ID!): User }
type User @key(fields: "id") {
  id: ID!
  """
  Self only, the description claims; the SDL does not mark it, so it is public.
  """
  nickname: String
  """
  Who may read it is declared by the directive alone.
  """
  secret: String @selfOnly
}
`;

const dir = mkdtempSync(join(tmpdir(), 'router-self-only-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compose(subgraphs: Record<string, string>) {
  return composeSupergraph(
    Object.entries(subgraphs).map(([name, sdl]) => {
      const schemaPath = join(dir, `${name}.graphql`);
      writeFileSync(schemaPath, sdl);
      return { name, routingUrl: `http://127.0.0.1:1/${name}`, schemaPath };
    }),
  );
}

describe('@selfOnly', () => {
  const composed = compose({ profiles: PROFILES });
  const state = new SchemaState(composed.supergraphSdl, buildASTSchema(parse(composed.apiSdl)));
  const viewerDependent = (query: string) => {
    const document = parse(query);
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (!operation) throw new Error('no operation');
    return state.isViewerDependent(document, operation);
  };

  it('should keep the directive in the supergraph and out of the API schema', () => {
    expect(composed.supergraphSdl).toMatch(/^ {2}secret: String\b.*@selfOnly$/m);
    expect(composed.apiSdl).not.toContain('selfOnly');
  });

  it('should share a subscription that selects a field only its description calls "Self only"', () => {
    expect(viewerDependent('subscription { userChanged(id: "u1") { id nickname } }')).toBe(false);
  });

  it('should run per user a subscription that selects a @selfOnly field, through fragments too', () => {
    expect(viewerDependent('subscription { userChanged(id: "u1") { secret } }')).toBe(true);
    expect(
      viewerDependent(
        'subscription { userChanged(id: "u1") { ...F } } fragment F on User { ... on User { secret } }',
      ),
    ).toBe(true);
  });

  it('should resolve a @selfOnly field for its owner only and leave the described one public', async () => {
    const schema = enforceSelfOnly(
      buildSubgraphSchema({
        typeDefs: parse(PROFILES),
        resolvers: {
          Query: { user: (_: unknown, { id }: { id: string }) => ({ id, nickname: 'n', secret: 's' }) },
        } as never,
      }),
    );
    const run = (userId: string | null) =>
      execute({
        schema,
        document: parse('{ user(id: "u1") { nickname secret } }'),
        contextValue: { viewer: { userId, region: null } },
      });
    expect((await run('u1')).data).toEqual({ user: { nickname: 'n', secret: 's' } });
    for (const viewer of ['u2', null]) {
      const result = await run(viewer);
      expect(result.data).toEqual({ user: { nickname: 'n', secret: null } });
      expect(result.errors?.map((e) => [e.extensions.code, e.path?.join('.')])).toEqual([
        ['FORBIDDEN', 'user.secret'],
      ]);
    }
  });

  it('should refuse a field of another type that does not name its owner', () => {
    const sdl = `${HEADER('"@key"')}
type Query { note: Note }
type Note @key(fields: "id") { id: ID! userId: ID! body: String @selfOnly }
`;
    expect(() =>
      enforceSelfOnly(buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: {} as never })),
    ).toThrow(/Note\.body needs owner/);
    const named = sdl.replace('body: String @selfOnly', 'body: String @selfOnly(owner: "userId")');
    expect(() =>
      enforceSelfOnly(buildSubgraphSchema({ typeDefs: parse(named), resolvers: {} as never })),
    ).not.toThrow();
  });

  it('should fail composition when a subgraph marks a field it does not resolve', () => {
    const external = `${HEADER('"@key", "@external", "@requires"')}
type User @key(fields: "id") {
  id: ID!
  secret: String @external @selfOnly
  hint: String @requires(fields: "secret")
}
`;
    const referenced = `${HEADER('"@key"')}
type Query { author: User }
type User @key(fields: "id", resolvable: false) { id: ID! @selfOnly }
`;
    for (const [other, message] of [
      [external, /\[other\] User\.secret is @external/],
      [referenced, /\[other\] User is only referenced there/],
    ] as const) {
      let error: unknown;
      try {
        compose({ profiles: PROFILES, other });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CompositionError);
      expect((error as CompositionError).problems.join('\n')).toMatch(message);
    }
  });
});
