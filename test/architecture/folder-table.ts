import type { ImportEdge } from './imports.ts';
import { isTestPath } from './imports.ts';

/**
 * The folder table of docs/architecture.md is the one statement of which top-level folder
 * may import which: this module reads it from the document, so that the rule checked and
 * the rule written cannot drift apart.
 *
 * The table is the first Markdown table whose header has the columns `folder` and
 * `may import`. A folder cell is a name in backticks with a trailing slash (`` `core/` ``).
 * A may-import cell is `nothing of ours`, `everything`, `everything above` (every folder
 * in an earlier row), `-` (holds no code), or folder names separated by commas.
 */

/** folder -> the other folders it may import (its own files are always allowed). */
export type FolderTable = ReadonlyMap<string, ReadonlySet<string>>;

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  /** The imported file, repository-relative. */
  to: string;
  reason: string;
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

function folderName(cell: string): string {
  return cell.replace(/`/g, '').replace(/\/$/, '').trim();
}

function mayImport(allowed: ReadonlySet<string>): string {
  return [...allowed].join(', ') || 'nothing of ours';
}

export function parseFolderTable(markdown: string): FolderTable {
  const lines = markdown.split('\n');
  const headerAt = lines.findIndex((l) => {
    const header = cells(l).map((c) => c.toLowerCase());
    return l.trim().startsWith('|') && header.includes('folder') && header.includes('may import');
  });
  if (headerAt < 0) throw new Error('no folder table (a Markdown table with the columns "folder" and "may import")');
  const header = cells(lines[headerAt] as string).map((c) => c.toLowerCase());
  const folderCol = header.indexOf('folder');
  const importCol = header.indexOf('may import');
  const rows: { folder: string; rule: string }[] = [];
  for (let k = headerAt + 2; k < lines.length && (lines[k] as string).trim().startsWith('|'); k++) {
    const row = cells(lines[k] as string);
    const folder = folderName(row[folderCol] ?? '');
    if (!/^[a-z][a-z0-9-]*$/.test(folder)) throw new Error(`folder table row ${k + 1}: "${row[folderCol]}" is not a folder name`);
    rows.push({ folder, rule: (row[importCol] ?? '').trim() });
  }
  const all = rows.map((r) => r.folder);
  const table = new Map<string, Set<string>>();
  rows.forEach(({ folder, rule }, at) => table.set(folder, readRule(rule, folder, all.slice(0, at), all)));
  return table;
}

/** One may-import cell of `folder`, given the folders of the rows above it and of the whole table. */
export function readRule(rule: string, folder: string, above: readonly string[], all: readonly string[]): Set<string> {
  let allowed: readonly string[];
  if (rule === 'nothing of ours' || rule === '-') allowed = [];
  else if (rule === 'everything') allowed = all;
  else if (rule === 'everything above') allowed = above;
  else allowed = rule.split(',').map(folderName);
  for (const name of allowed) {
    if (!all.includes(name)) throw new Error(`folder table: ${folder}/ may import "${name}", which is not a folder of the table`);
  }
  return new Set(allowed.filter((name) => name !== folder));
}

/** file -> the other folders whose names it passes on through `export ... from`, followed through chains of re-exports. */
function reexportedFolders(edges: readonly ImportEdge[]): Map<string, Set<string>> {
  const reexports = new Map<string, string[]>();
  for (const e of edges) if (e.reexport) reexports.set(e.from, [...(reexports.get(e.from) ?? []), e.to]);
  const out = new Map<string, Set<string>>();
  for (const file of reexports.keys()) {
    const own = file.split('/')[0];
    const folders = new Set<string>();
    const seen = new Set([file]);
    const queue = [file];
    for (let q = 0; q < queue.length; q++) {
      for (const to of reexports.get(queue[q] as string) ?? []) {
        const folder = to.split('/')[0] as string;
        if (folder !== own) folders.add(folder);
        if (!seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    if (folders.size > 0) out.set(file, folders);
  }
  return out;
}

/**
 * Imports of production code that break the table: into a folder the importer may not
 * use, directly or through another folder's re-export (a shim that passes on what the
 * importer may not reach is the same dependency under another name), into test code
 * (test/, benchmarks/, a testing/ folder, a *.test.ts), out of the repository, or from a
 * folder the table does not know.
 */
export function folderViolations(edges: readonly ImportEdge[], table: FolderTable): Violation[] {
  const out: Violation[] = [];
  const passedOn = reexportedFolders(edges);
  for (const e of edges) {
    const own = e.from.split('/')[0] as string;
    const target = e.to.split('/')[0] as string;
    const base = { file: e.from, line: e.line, specifier: e.specifier, to: e.to };
    const allowed = table.get(own);
    if (allowed === undefined) out.push({ ...base, reason: `${own}/ is not in the folder table` });
    else if (e.to.startsWith('../') || !e.to.includes('/')) out.push({ ...base, reason: 'imports from outside the folders of the table' });
    else if (isTestPath(e.to)) out.push({ ...base, reason: 'production code imports test code' });
    else if (target !== own && !allowed.has(target)) out.push({ ...base, reason: `${own}/ may not import ${target}/ (may import: ${mayImport(allowed)})` });
    else {
      for (const folder of passedOn.get(e.to) ?? []) {
        if (folder !== own && !allowed.has(folder)) {
          out.push({ ...base, reason: `${own}/ may not import ${folder}/, which ${e.to} re-exports (may import: ${mayImport(allowed)})` });
        }
      }
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
