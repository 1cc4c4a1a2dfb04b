import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/**
 * Stores hand out Date objects; clients get ISO-8601 strings in UTC. Inputs stay
 * strings here: validation.ts parses them where the range rules live, with
 * messages that name the field.
 */
export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return value;
    throw new GraphQLError('DateTime cannot represent a non-date value.');
  },
  parseValue(value) {
    if (typeof value !== 'string') throw new GraphQLError('DateTime must be a string.');
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string.', { nodes: ast });
    return ast.value;
  },
});
