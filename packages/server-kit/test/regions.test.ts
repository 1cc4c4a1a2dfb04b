import { readFileSync } from 'node:fs';
import { type EnumTypeDefinitionNode, Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isRegion, REGIONS } from '../src/index.js';

const root = new URL('../../../', import.meta.url);

/** The values of `enum Region` in an SDL file of the repository. */
function regionEnum(path: string): string[] {
  const document = parse(readFileSync(new URL(path, root), 'utf8'));
  const region = document.definitions.find(
    (d): d is EnumTypeDefinitionNode => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === 'Region',
  );
  return (region?.values ?? []).map((v) => v.name.value);
}

describe('REGIONS', () => {
  it.each(['schema/api.graphql', 'subgraphs/users/schema.graphql', 'subgraphs/workouts/schema.graphql'])(
    'should hold the values of enum Region in %s',
    (path) => {
      expect([...REGIONS].sort()).toEqual(regionEnum(path).sort());
    },
  );

  it('should recognize exactly those values', () => {
    for (const region of REGIONS) expect(isRegion(region)).toBe(true);
    for (const other of ['eu', 'ALL', '', null, 1]) expect(isRegion(other)).toBe(false);
  });
});
