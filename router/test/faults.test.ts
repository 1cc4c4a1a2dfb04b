import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { postGraphQL } from '@fitness/testing';
import { composeSupergraph } from '@fitness/tooling';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSubgraph } from './stubSubgraph.js';

// `people` owns Person; `posts` references it twice: `author` non-null (so a person
// that cannot be resolved is a value-completion error), `editor` nullable (so an
// outage of people costs only that field).
const PEOPLE_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { person(id: ID!): Person, headline: String }
  type Person @key(fields: "id") { id: ID!, name: String! }
`;
const POSTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { posts: [Post!] }
  type Post @key(fields: "id") { id: ID!, title: String!, author: Person!, editor: Person }
  type Person @key(fields: "id", resolvable: false) { id: ID! }
`;

const PEOPLE: Record<string, { id: string; name: string }> = {
  p1: { id: 'p1', name: 'Ada' },
  p2: { id: 'p2', name: 'Linus' },
};
const POSTS = [
  { id: 'a', title: 'First', author: { id: 'p1' }, editor: { id: 'p2' } },
  { id: 'b', title: 'Second', author: { id: 'p2' }, editor: { id: 'p1' } },
];

const startPeople = (port = 0) =>
  startStubSubgraph(
    PEOPLE_SDL,
    {
      Query: { person: (_: unknown, { id }: { id: string }) => PEOPLE[id] ?? null, headline: () => 'news' },
      Person: { __resolveReference: (ref: { id: string }) => PEOPLE[ref.id] ?? null },
    },
    port,
  );
const startPosts = (posts: typeof POSTS) => startStubSubgraph(POSTS_SDL, { Query: { posts: () => posts } });

/** Router log lines, parsed, for asserting how an outage is reported. */
function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('router fault isolation', () => {
  let dir: string;
  let people: Awaited<ReturnType<typeof startPeople>>;
  let posts: Awaited<ReturnType<typeof startPosts>>;
  let router: RunningRouter;
  let url: string;
  const log = captureLogger();
  const postsData = POSTS.map((p) => ({ ...p }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'router-faults-'));
    people = await startPeople();
    posts = await startPosts(postsData);
    const subgraphs = [
      { name: 'people', sdl: PEOPLE_SDL, url: people.url },
      { name: 'posts', sdl: POSTS_SDL, url: posts.url },
    ].map(({ name, sdl, url }) => {
      const schemaPath = join(dir, `${name}.graphql`);
      writeFileSync(schemaPath, sdl);
      return { name, routingUrl: url, schemaPath };
    });
    const supergraphPath = join(dir, 'supergraph.graphql');
    writeFileSync(supergraphPath, composeSupergraph(subgraphs).supergraphSdl);
    router = await startRouter(
      loadConfig({ PORT: '0', SUPERGRAPH_PATH: supergraphPath, SUBGRAPH_TIMEOUT_MS: '2000' }),
      log.logger,
    );
    url = `http://127.0.0.1:${router.port}/graphql`;
  });

  afterAll(async () => {
    await router?.stop();
    await people?.stop();
    await posts?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    postsData.splice(0, postsData.length, ...POSTS.map((p) => ({ ...p })));
  });

  const QUERY = '{ headline posts { id title editor { name } } }';

  it('should answer every subgraph when all are up', async () => {
    const { status, body } = await postGraphQL(url, QUERY);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        headline: 'news',
        posts: [
          { id: 'a', title: 'First', editor: { name: 'Linus' } },
          { id: 'b', title: 'Second', editor: { name: 'Ada' } },
        ],
      },
    });
  });

  it('should send an error with a path for a non-null value the owning subgraph cannot resolve', async () => {
    postsData[1] = { ...postsData[1]!, author: { id: 'nobody' } };
    const { status, body } = await postGraphQL(url, '{ posts { id author { name } } }');
    expect(status).toBe(200);
    // Post.author is non-null and posts' items are non-null: null propagates to `posts`.
    expect(body.data).toEqual({ posts: null });
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({
      path: ['posts', 1, 'author', 'name'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(body).not.toHaveProperty('extensions.valueCompletion');
  });

  it('should never send data: null without errors', async () => {
    postsData[0] = { ...postsData[0]!, author: { id: 'ghost' } };
    const { body } = await postGraphQL(url, '{ posts { author { name } } }');
    expect(body.data?.posts ?? null).toBeNull();
    expect(body.errors?.length).toBeGreaterThan(0);
  });

  it('should keep the rest of the data when a subgraph is down, with one error per lost field and one log line', async () => {
    const port = people.port;
    await people.stop();
    const before = log.lines.length;
    try {
      for (let i = 0; i < 5; i += 1) {
        const { status, body } = await postGraphQL(url, QUERY);
        expect(status).toBe(200);
        expect(body.data).toEqual({
          headline: null,
          posts: [
            // Person.name is non-null: the null of the lost field propagates to editor.
            { id: 'a', title: 'First', editor: null },
            { id: 'b', title: 'Second', editor: null },
          ],
        });
        const byPath = Object.fromEntries((body.errors ?? []).map((e) => [JSON.stringify(e.path), e]));
        expect(Object.keys(byPath).sort()).toEqual(
          [['headline'], ['posts', 0, 'editor', 'name'], ['posts', 1, 'editor', 'name']]
            .map((p) => JSON.stringify(p))
            .sort(),
        );
        for (const error of body.errors ?? []) {
          expect(error.extensions?.code).toBe('SERVICE_UNAVAILABLE');
          expect(JSON.stringify(error)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
        }
      }
      const outage = log.lines.slice(before);
      // Five failed requests, each with two fetches to people: ONE line, no stack.
      expect(
        outage.filter((l) => l.msg === 'subgraph unavailable; its fields answer null with an error'),
      ).toEqual([expect.objectContaining({ subgraph: 'people', reason: 'ECONNREFUSED' })]);
      expect(outage.filter((l) => (l.level as number) >= 50)).toEqual([]);
      expect(JSON.stringify(outage)).not.toContain('"stack"');
    } finally {
      people = await startPeople(port);
    }
    const { body } = await postGraphQL(url, QUERY);
    expect(body.errors).toBeUndefined();
    expect(log.lines.some((l) => l.msg === 'subgraph available again' && l.subgraph === 'people')).toBe(true);
  });

  it('should answer a root field of a subgraph that is down with null and a path', async () => {
    const port = people.port;
    await people.stop();
    try {
      const { body } = await postGraphQL(url, '{ person(id: "p1") { name } posts { id } }');
      expect(body.data).toEqual({ person: null, posts: [{ id: 'a' }, { id: 'b' }] });
      expect(body.errors).toEqual([
        expect.objectContaining({
          path: ['person'],
          extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }),
        }),
      ]);
    } finally {
      people = await startPeople(port);
    }
  });
});
