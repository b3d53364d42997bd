import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHITECTURE_DOC, checkArchitecture, describeProblems, parseExceptions } from './check.ts';
import { folderViolations, parseFolderTable } from './folder-table.ts';
import { findCycles, type ImportEdge, importEdges, importSites, productionFiles } from './imports.ts';

const REPO = join(import.meta.dirname, '..', '..');

describe('the repository', () => {
  it('has no import cycle and no import against the folder table of docs/architecture.md', () => {
    const report = checkArchitecture(REPO);
    expect(report.files).toBeGreaterThan(100);
    expect(report.table.get('cli')).toEqual(new Set(['node', 'genesis', 'core']));
    expect(describeProblems(report)).toEqual([]);
  });
});

describe('importSites', () => {
  it('finds static, side-effect, dynamic, type and re-export imports, with their lines', () => {
    const source = [
      "import { a } from './a.ts';",
      'import type {',
      '  B,',
      "} from '../b/b.ts';",
      "import './side.ts';",
      "export * from './c.ts';",
      "export { d, type D } from './d.ts';",
      "const e = await import('./e.ts');",
      "type F = import('./f.ts').F;",
      "import { x } from 'node:fs';",
    ].join('\n');
    expect(importSites(source)).toEqual([
      { specifier: './a.ts', line: 1, reexport: false },
      { specifier: '../b/b.ts', line: 4, reexport: false },
      { specifier: './side.ts', line: 5, reexport: false },
      { specifier: './c.ts', line: 6, reexport: true },
      { specifier: './d.ts', line: 7, reexport: true },
      { specifier: './e.ts', line: 8, reexport: false },
      { specifier: './f.ts', line: 9, reexport: false },
      { specifier: 'node:fs', line: 10, reexport: false },
    ]);
  });

  it('ignores what only looks like an import: comments, strings, templates, regular expressions, member calls', () => {
    const source = [
      "// import { a } from './commented.ts';",
      "/* export * from './block-comment.ts'; */",
      'const s = "import x from \'./in-string.ts\'";',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source with a template literal in it
      "const t = `import('./in-template.ts') ${\"from\"} './still-template.ts'`;",
      "const r = /from '.\\/in-regex.ts'/;",
      "loader.import('./member-call.ts');",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source with template literals in it
      "const n = `${`nested ${1}`}`; import { z } from './after-templates.ts';",
      "const div = 4 / 2; import { q } from './after-division.ts'; const k = 1 / 2;",
    ].join('\n');
    expect(importSites(source).map((s) => s.specifier)).toEqual(['./after-templates.ts', './after-division.ts']);
  });
});

function edges(pairs: [string, string][], reexport: string[] = []): ImportEdge[] {
  return pairs.map(([from, to], k) => ({ from, to, specifier: to, line: k + 1, reexport: reexport.includes(`${from} -> ${to}`) }));
}

describe('findCycles', () => {
  it('reports each cycle once, as a closed path through its files', () => {
    const found = findCycles(
      edges([
        ['a/x.ts', 'a/y.ts'],
        ['a/y.ts', 'b/z.ts'],
        ['b/z.ts', 'a/x.ts'],
        ['b/z.ts', 'c/leaf.ts'],
        ['c/self.ts', 'c/self.ts'],
        ['d/p.ts', 'd/q.ts'],
      ]),
    );
    expect(found).toEqual([
      ['a/x.ts', 'a/y.ts', 'b/z.ts', 'a/x.ts'],
      ['c/self.ts', 'c/self.ts'],
    ]);
  });

  it('finds none in a graph that only shares leaves', () => {
    expect(
      findCycles(
        edges([
          ['a/x.ts', 'c/leaf.ts'],
          ['b/y.ts', 'c/leaf.ts'],
          ['a/x.ts', 'b/y.ts'],
        ]),
      ),
    ).toEqual([]);
  });
});

const TABLE_DOC = `# Fixture

| folder | its one job | may import |
|---|---|---|
| \`core/\` | primitives | nothing of ours |
| \`state/\` | storage | core |
| \`rpc/\` | api | core |
| \`node/\` | wiring | everything above |
| \`cli/\` | command | node, core |
| \`proto/\` | contract | - |
| \`test/\` | tests | everything |
`;

describe('parseFolderTable', () => {
  it('reads names, lists, "everything above", "everything" and "nothing of ours"', () => {
    const table = parseFolderTable(TABLE_DOC);
    expect([...table.keys()]).toEqual(['core', 'state', 'rpc', 'node', 'cli', 'proto', 'test']);
    expect(table.get('core')).toEqual(new Set());
    expect(table.get('node')).toEqual(new Set(['core', 'state', 'rpc']));
    expect(table.get('cli')).toEqual(new Set(['node', 'core']));
    expect(table.get('proto')).toEqual(new Set());
    expect(table.get('test')).toEqual(new Set(['core', 'state', 'rpc', 'node', 'cli', 'proto']));
  });

  it('refuses a rule naming a folder the table does not have, and a document without the table', () => {
    expect(() => parseFolderTable(TABLE_DOC.replace('| node, core |', '| node, cor |'))).toThrow(/cli\/ may import "cor"/);
    expect(() => parseFolderTable('# nothing here\n')).toThrow(/no folder table/);
  });
});

describe('folderViolations', () => {
  const table = parseFolderTable(TABLE_DOC);

  it('allows what the table allows', () => {
    const ok = edges([
      ['state/a.ts', 'core/b.ts'],
      ['state/a.ts', 'state/sub/c.ts'],
      ['node/n.ts', 'rpc/r.ts'],
      ['cli/main.ts', 'node/n.ts'],
    ]);
    expect(folderViolations(ok, table)).toEqual([]);
  });

  it('names the file, line and rule of a forbidden import, an import of test code, one leaving the tree, and an unknown folder', () => {
    const bad = edges([
      ['core/a.ts', 'state/b.ts'],
      ['cli/main.ts', 'rpc/r.ts'],
      ['state/a.ts', 'state/testing/fixture.ts'],
      ['node/n.ts', 'test/helpers/x.ts'],
      ['node/n.ts', 'rpc/r.test.ts'],
      ['node/n.ts', '../elsewhere/x.ts'],
      ['tools/t.ts', 'core/a.ts'],
    ]);
    expect(folderViolations(bad, table).map((v) => `${v.file}:${v.line} ${v.reason}`)).toEqual([
      'cli/main.ts:2 cli/ may not import rpc/ (may import: node, core)',
      'core/a.ts:1 core/ may not import state/ (may import: nothing of ours)',
      'node/n.ts:4 production code imports test code',
      'node/n.ts:5 production code imports test code',
      'node/n.ts:6 imports from outside the folders of the table',
      'state/a.ts:3 production code imports test code',
      'tools/t.ts:7 tools/ is not in the folder table',
    ]);
  });

  it('sees through a re-export that passes on a folder the importer may not reach', () => {
    const shim = edges(
      [
        ['node/api/shim.ts', 'node/api/inner.ts'],
        ['node/api/inner.ts', 'rpc/types.ts'],
        ['cli/status.ts', 'node/api/shim.ts'],
        ['node/other.ts', 'node/api/shim.ts'],
      ],
      ['node/api/shim.ts -> node/api/inner.ts', 'node/api/inner.ts -> rpc/types.ts'],
    );
    expect(folderViolations(shim, table).map((v) => `${v.file}:${v.line} ${v.reason}`)).toEqual([
      'cli/status.ts:3 cli/ may not import rpc/, which node/api/shim.ts re-exports (may import: node, core)',
    ]);
  });
});

describe('checkArchitecture on a fixture tree', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  function tree(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'joule-architecture-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  }

  /** A README per folder of the table, each stating the table's rule. */
  const readmes: Record<string, string> = {
    'core/README.md': '**May import:** nothing of ours (the table).',
    'state/README.md': '**May import:** core.',
    'rpc/README.md': '**May import:** core',
    'node/README.md': '# node\n\n**May import:** core, state, rpc (the table)',
    'cli/README.md': '**May import:** node, core',
    'test/README.md': '**May import:** everything (the table)',
  };

  const exceptions = (...items: string[]): string =>
    `\n## Imports waiting for a decision\n\n${items.map((i) => `- ${i}: why\n`).join('')}\n## Next\n- \`x.ts\` -> \`y.ts\` is not in the section\n`;

  it('scans production files only, and reports a cycle, a forbidden import and a stale exception', () => {
    root = tree({
      [ARCHITECTURE_DOC]: TABLE_DOC + exceptions('`cli/old.ts` -> `rpc/r.ts`', '`cli/main.ts` -> `state/s.ts`'),
      ...readmes,
      'vitest.config.ts': "import './core/a.ts';",
      'core/a.ts': "import { b } from './b.ts';",
      'core/b.ts': "import { a } from './a.ts';",
      'core/a.test.ts': "import '../rpc/r.ts';",
      'core/testing/fake.ts': "import '../../node/n.ts';",
      'state/s.ts': "import '../core/a.ts';",
      'rpc/r.ts': "export const r = 1; // import '../node/n.ts'",
      'node/n.ts': "import '../rpc/r.ts';",
      'cli/main.ts': "import '../rpc/r.ts';\nimport '../state/s.ts';",
      'test/t.ts': "import '../cli/main.ts';",
    });
    expect(productionFiles(root)).toEqual(['cli/main.ts', 'core/a.ts', 'core/b.ts', 'node/n.ts', 'rpc/r.ts', 'state/s.ts']);
    const report = checkArchitecture(root);
    expect(report.excepted.map((v) => `${v.file}:${v.line}`)).toEqual(['cli/main.ts:2']);
    expect(describeProblems(report)).toEqual([
      'import cycle: core/a.ts -> core/b.ts -> core/a.ts',
      "cli/main.ts:1 imports '../rpc/r.ts': cli/ may not import rpc/ (may import: node, core)",
      `${ARCHITECTURE_DOC} lists cli/old.ts -> rpc/r.ts as waiting for a decision, but no such import breaks the table any more: remove it from the list`,
    ]);
  });

  it('reports a folder of production code that the table does not name', () => {
    root = tree({ [ARCHITECTURE_DOC]: TABLE_DOC, 'scripts/x.ts': 'export const x = 1;' });
    expect(describeProblems(checkArchitecture(root))).toEqual([`scripts/ holds production code but is not in the folder table of ${ARCHITECTURE_DOC}`]);
  });

  it('reports a folder without README, a README without its rule, and a README that states another rule than the table', () => {
    const { 'test/README.md': _, ...others } = readmes;
    root = tree({
      [ARCHITECTURE_DOC]: TABLE_DOC,
      ...others,
      'state/README.md': 'State. It may import core.',
      'node/README.md': '**May import:** core, rpc (forgot state)',
      'cli/README.md': '**May import:** node, cor',
      'test/t.test.ts': '',
    });
    expect(describeProblems(checkArchitecture(root))).toEqual([
      'state/README.md has no line "**May import:** ..." (as the folder table says: core)',
      'node/README.md says it may import "core, rpc", the folder table says: core, state, rpc',
      'cli/README.md says it may import "node, cor", the folder table says: node, core',
      'test/README.md is missing (what the folder owns, what it may import, its files)',
    ]);
  });
});

describe('parseExceptions', () => {
  it('reads only the list of its own section', () => {
    const doc = '# A\n- `a.ts` -> `b.ts`\n## Imports waiting for a decision\n- `c.ts` -> `d.ts`: reason\n* `e.ts` -> `f.ts`\n## Other\n- `g.ts` -> `h.ts`\n';
    expect([...parseExceptions(doc)]).toEqual(['c.ts -> d.ts', 'e.ts -> f.ts']);
  });
});

it('importEdges resolves relative specifiers against the importing file and leaves packages out', () => {
  const sources = new Map([['node/chain/c.ts', "import '../../core/x.ts';\nimport './y.ts';\nimport 'level';\nimport '../../../outside.ts';"]]);
  expect(importEdges(sources).map((e) => e.to)).toEqual(['core/x.ts', 'node/chain/y.ts', '../outside.ts']);
});
