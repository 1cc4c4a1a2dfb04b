import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function toDate(value: unknown): Date | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/**
 * ISO-8601 date-time. Records hold `Date`s; clients always get the UTC ISO form
 * (`2026-11-26T06:00:00.000Z`), also from `executeOperation`, where no JSON
 * serialisation would otherwise turn a Date into a string.
 */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = toDate(value);
    if (!date) throw new GraphQLError('DateTime cannot represent an invalid date-time.');
    return date.toISOString();
  },
  parseValue(value) {
    const date = typeof value === 'string' ? toDate(value) : undefined;
    if (!date) throw new GraphQLError('DateTime must be an ISO-8601 string.');
    return date;
  },
  parseLiteral(ast) {
    const date = ast.kind === Kind.STRING ? toDate(ast.value) : undefined;
    if (!date) throw new GraphQLError('DateTime must be an ISO-8601 string.');
    return date;
  },
});
