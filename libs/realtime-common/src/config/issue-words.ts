import { z } from 'zod';

/** What a zod issue expected, in plain words that follow "must be": "a non-empty string", "one of a, b or c". */
export function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return tooSmall(issue);
    case 'too_big':
      return tooBig(issue);
    case 'invalid_type':
      return typeWord(issue.expected);
    case 'invalid_value':
      return oneOf(issue.values);
    case 'invalid_format':
      // A format given its own words (`.regex(re, 'a path starting with /')`) keeps them; zod's own start "Invalid".
      if (!issue.message.startsWith('Invalid')) return ownWords(issue.message);
      return issue.format === 'regex' && issue.pattern ? `text matching ${issue.pattern}` : `a valid ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `an object without ${issue.keys.join(', ')} (not options)`;
    case 'invalid_union':
      return unionWords(issue);
    case 'custom':
      return ownWords(issue.message);
    default:
      return ownWords(issue.message);
  }
}

/** "an integer between 1 and 1024", "a number of at least 0": both bounds at once, whichever one was crossed. */
export function numberRange(schema: z.ZodNumber): string {
  const { minValue, maxValue, isInt } = schema;
  const kind = isInt ? 'an integer' : 'a number';
  const hasMin = minValue !== null && minValue > -Number.MAX_SAFE_INTEGER;
  const hasMax = maxValue !== null && maxValue < Number.MAX_SAFE_INTEGER;
  if (hasMin && hasMax) return `${kind} between ${minValue} and ${maxValue}`;
  if (hasMin) return `${kind} of at least ${minValue}`;
  if (hasMax) return `${kind} of at most ${maxValue}`;
  return kind;
}

function tooSmall(issue: z.core.$ZodIssueTooSmall): string {
  const min = Number(issue.minimum);
  switch (issue.origin) {
    case 'string':
      return min <= 1 ? 'a non-empty string' : `at least ${min} characters long`;
    case 'array':
    case 'set':
      return `a list of at least ${min} ${min === 1 ? 'item' : 'items'}`;
    default:
      return issue.inclusive === false ? `more than ${min}` : `at least ${min}`;
  }
}

function tooBig(issue: z.core.$ZodIssueTooBig): string {
  const max = Number(issue.maximum);
  switch (issue.origin) {
    case 'string':
      return `at most ${max} characters long`;
    case 'array':
    case 'set':
      return `a list of at most ${max} items`;
    default:
      return issue.inclusive === false ? `less than ${max}` : `at most ${max}`;
  }
}

function typeWord(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'object':
    case 'record':
      return 'an object';
    case 'nonoptional':
      return 'set';
    default:
      return `${/^[aeiou]/i.test(expected) ? 'an' : 'a'} ${expected}`;
  }
}

function oneOf(values: readonly unknown[]): string {
  const words = values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
  if (words.length === 1) return `"${words[0]}"`;
  return `one of ${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** "* or a list": the first problem of each alternative, each once. */
function unionWords(issue: z.core.$ZodIssueInvalidUnion): string {
  const alternatives = [...new Set(issue.errors.filter((errors) => errors.length > 0).map((e) => expectedOf(e[0])))];
  return alternatives.length > 0 ? alternatives.join(' or ') : 'exactly one of the accepted forms';
}

/** A message written for this project ("expected an ioredis client") without its "expected". */
function ownWords(message: string): string {
  return message.replace(/^expected /, '');
}
