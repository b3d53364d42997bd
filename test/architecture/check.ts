import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type FolderTable, folderViolations, parseFolderTable, readRule, type Violation } from './folder-table.ts';
import { findCycles, importEdges, readProduction } from './imports.ts';

/**
 * The architecture check of `npm test` (through architecture.test.ts) and of
 * `npm run check:imports` (this file run directly, for the whole report):
 * no import cycle in production code, and no import that breaks the folder table of
 * docs/architecture.md, except the ones that document lists as waiting for a decision.
 */

export const ARCHITECTURE_DOC = 'docs/architecture.md';

export interface ArchitectureReport {
  files: number;
  imports: number;
  table: FolderTable;
  cycles: string[][];
  /** Violations the document does not list as waiting for a decision. */
  violations: Violation[];
  /** Listed exceptions that still occur. */
  excepted: Violation[];
  /** Listed exceptions that no longer occur: the list must shrink with the code. */
  stale: string[];
  /** Folders holding production code that the table does not name. */
  unknownFolders: string[];
  /** Folders of the table whose README is missing or states another rule than the table. */
  readmes: string[];
}

/** `from -> to` of one import, the form in which the document lists an exception. */
export function edgeKey(from: string, to: string): string {
  return `${from} -> ${to}`;
}

/**
 * The exceptions: the list items of the section "Imports waiting for a decision", each
 * opening with `` `file` -> `imported file` ``.
 */
export function parseExceptions(markdown: string): Set<string> {
  const out = new Set<string>();
  let inSection = false;
  for (const line of markdown.split('\n')) {
    if (/^#+ /.test(line)) inSection = /^#+ Imports waiting for a decision/i.test(line);
    const item = inSection ? /^\s*[-*] `([^`]+)` -> `([^`]+)`/.exec(line) : null;
    if (item) out.add(edgeKey(item[1] as string, item[2] as string));
  }
  return out;
}

export function checkArchitecture(root: string): ArchitectureReport {
  const doc = readFileSync(join(root, ARCHITECTURE_DOC), 'utf8');
  const table = parseFolderTable(doc);
  const exceptions = parseExceptions(doc);
  const sources = readProduction(root);
  const edges = importEdges(sources);
  const all = folderViolations(edges, table);
  const resolve = (v: Violation): string => edgeKey(v.file, v.to);
  const used = new Set(all.map(resolve).filter((key) => exceptions.has(key)));
  return {
    files: sources.size,
    imports: edges.length,
    table,
    cycles: findCycles(edges),
    violations: all.filter((v) => !exceptions.has(resolve(v))),
    excepted: all.filter((v) => exceptions.has(resolve(v))),
    stale: [...exceptions].filter((key) => !used.has(key)),
    unknownFolders: [...new Set([...sources.keys()].map((f) => f.split('/')[0] as string))].filter((folder) => !table.has(folder)).sort(),
    readmes: readmeProblems(root, table),
  };
}

/**
 * Every folder of the table that exists has a README.md with a line
 * `**May import:** <rule>` that says what the table says (the same words are accepted:
 * folder names, `everything`, `nothing of ours`). The table stays the one source; the
 * READMEs are checked against it, so that they cannot drift from it.
 */
export function readmeProblems(root: string, table: FolderTable): string[] {
  const problems: string[] = [];
  const all = [...table.keys()];
  for (const [folder, allowed] of table) {
    const dir = join(root, folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    const readme = join(dir, 'README.md');
    if (!existsSync(readme)) {
      problems.push(`${folder}/README.md is missing (what the folder owns, what it may import, its files)`);
      continue;
    }
    const line = /^\*\*May import:\*\*\s*([^(.\n]*)/m.exec(readFileSync(readme, 'utf8'));
    if (line === null) {
      problems.push(`${folder}/README.md has no line "**May import:** ..." (as the folder table says: ${[...allowed].join(', ') || 'nothing of ours'})`);
      continue;
    }
    let stated: Set<string>;
    try {
      stated = readRule((line[1] as string).trim(), folder, [], all);
    } catch {
      stated = new Set(['?']);
    }
    const same = stated.size === allowed.size && [...stated].every((f) => allowed.has(f));
    if (!same)
      problems.push(
        `${folder}/README.md says it may import "${(line[1] as string).trim()}", the folder table says: ${[...allowed].join(', ') || 'nothing of ours'}`,
      );
  }
  return problems;
}

/** One line per problem, for a person to act on. */
export function describeProblems(report: ArchitectureReport): string[] {
  return [
    ...report.readmes,
    ...report.unknownFolders.map((folder) => `${folder}/ holds production code but is not in the folder table of ${ARCHITECTURE_DOC}`),
    ...report.cycles.map((c) => `import cycle: ${c.join(' -> ')}`),
    ...report.violations.map((v) => `${v.file}:${v.line} imports '${v.specifier}': ${v.reason}`),
    ...report.stale.map(
      (key) => `${ARCHITECTURE_DOC} lists ${key} as waiting for a decision, but no such import breaks the table any more: remove it from the list`,
    ),
  ];
}

if (import.meta.main) {
  const root = join(import.meta.dirname, '..', '..');
  const report = checkArchitecture(root);
  const problems = describeProblems(report);
  console.log(
    `${report.files} production files, ${report.imports} relative imports, ${report.cycles.length} cycles, ${report.violations.length} imports against the folder table`,
  );
  for (const v of report.excepted) console.log(`waiting for a decision: ${v.file}:${v.line} imports '${v.specifier}': ${v.reason}`);
  for (const p of problems) console.log(p);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
