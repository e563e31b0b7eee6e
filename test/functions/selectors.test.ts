import { describe, expect, it } from 'vitest';
import { splitSelectors } from '../../functions/aliyun/selectors.ts';

describe('splitSelectors (FC joins repeated match[] with commas)', () => {
  it.each([
    ['up', ['up']],
    ['up,down', ['up', 'down']],
    ['up{a="x,y"},down', ['up{a="x,y"}', 'down']],
    ['{__name__=~"a|b"}', ['{__name__=~"a|b"}']],
    ['up{job="a",env="b"},{__name__="x",c!~"d,e"}', ['up{job="a",env="b"}', '{__name__="x",c!~"d,e"}']],
    ["up{a='x,y'},down", ["up{a='x,y'}", 'down']],
    // Escaped quotes do not end a string; in backquotes a backslash escapes nothing.
    ['up{a="x\\",y"},down', ['up{a="x\\",y"}', 'down']],
    ['up{a=`x\\`,b=`,`},down', ['up{a=`x\\`,b=`,`}', 'down']],
    ['up{a="`,\'"},down', ['up{a="`,\'"}', 'down']],
    ['rate(x[5m:1m]),sum(y) by (a,b)', ['rate(x[5m:1m])', 'sum(y) by (a,b)']],
    ['up # a comment, with a comma\n,down', ['up # a comment, with a comma\n', 'down']],
    ['up,', ['up', '']],
    ['', ['']],
  ])('%j', (joined, expected) => {
    expect(splitSelectors(joined)).toEqual(expected);
  });
});
