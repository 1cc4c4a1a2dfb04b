import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema, findBreakingChanges } from 'graphql';
import { describe, expect, it } from 'vitest';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const contractCopy = path('../../schema/contract.graphql');
const sharedContract = path('../../../shared/API.graphql');

function unservedList(): string[] {
  return readFileSync(path('../../schema/unserved-contract.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

describe('client contract', () => {
  it('should keep schema/contract.graphql identical to the shared contract', () => {
    if (!existsSync(sharedContract)) return; // a checkout without the shared folder beside it
    expect(readFileSync(contractCopy, 'utf8')).toBe(readFileSync(sharedContract, 'utf8'));
  });

  it('should serve every part of the contract except the listed unserved fields', () => {
    const contract = buildSchema(readFileSync(contractCopy, 'utf8'));
    const api = buildSchema(readFileSync(path('../../schema/api.graphql'), 'utf8'));
    const breaking = findBreakingChanges(contract, api).map((c) => c.description);
    const allowed = unservedList();
    // Anything breaking that is not on the list is a regression of the contract.
    expect(breaking.filter((b) => !allowed.includes(b))).toEqual([]);
    // A listed entry that is served now must leave the list.
    expect(allowed.filter((a) => !breaking.includes(a))).toEqual([]);
  });
});
