#!/usr/bin/env node
/**
 * Checks the shape of the code, as CI runs it (`npm run check-structure`):
 * 1. doors: a file in src/<a>/ imports another subsystem only through src/<b>/index.ts;
 * 2. layers: subsystems import each other without cycles;
 * 3. exports: everything exported (by a module, or by a door) is imported somewhere else, by pier,
 *    its tests, its bench or bin/; an export nothing uses is dead code, or should not be exported.
 * Reads the TypeScript sources with the compiler's parser; builds nothing.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const rel = (file) => relative(root, file).split(sep).join("/");

function walk(dir, pattern) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return walk(full, pattern);
    return pattern.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

const files = [
  ...walk(join(root, "src"), /\.ts$/),
  ...walk(join(root, "test"), /\.ts$/).filter((f) => !f.includes(`${sep}fixtures${sep}`)),
  ...walk(join(root, "bench"), /\.ts$/),
  ...walk(join(root, "bin"), /\.js$/),
];

/** The source file a relative specifier names: ./x.js → ./x.ts; bin's ../dist/src/… → src/…. */
function resolveSpecifier(from, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  let target = resolve(dirname(from), specifier);
  const dist = join(root, "dist");
  if (target.startsWith(dist + sep)) target = join(root, relative(dist, target));
  return target.replace(/\.js$/, ".ts");
}

/** Per file: its exports (local, or re-exported from another file), and what it imports by name. */
const modules = new Map();
for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const exports = new Map();
  const imports = [];
  const local = (name) => exports.set(name, { from: undefined, name });
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement)
      ? ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      : false;
    if (ts.isImportDeclaration(statement)) {
      const target = resolveSpecifier(file, statement.moduleSpecifier.text);
      const clause = statement.importClause;
      if (!target || !clause) continue;
      if (clause.namedBindings && ts.isNamespaceImport(clause.namedBindings)) imports.push({ target, name: "*" });
      else if (clause.namedBindings)
        for (const element of clause.namedBindings.elements)
          imports.push({ target, name: (element.propertyName ?? element.name).text });
      if (clause.name) imports.push({ target, name: "default" });
    } else if (ts.isExportDeclaration(statement)) {
      const target = statement.moduleSpecifier ? resolveSpecifier(file, statement.moduleSpecifier.text) : undefined;
      if (!statement.exportClause) {
        if (target) imports.push({ target, name: "*" });
        continue;
      }
      if (!ts.isNamedExports(statement.exportClause)) continue;
      for (const element of statement.exportClause.elements) {
        const original = (element.propertyName ?? element.name).text;
        exports.set(element.name.text, { from: target, name: original });
        if (target) imports.push({ target, name: original, reexport: true });
      }
    } else if (exported) {
      if (ts.isVariableStatement(statement))
        for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) local(d.name.text);
      else if (statement.name && ts.isIdentifier(statement.name)) local(statement.name.text);
    }
  }
  // A dynamic import("./x.js") uses the whole module, as `import * as` does.
  const dynamic = (node) => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      const target = resolveSpecifier(file, node.arguments[0].text);
      if (target) imports.push({ target, name: "*" });
    }
    ts.forEachChild(node, dynamic);
  };
  dynamic(source);
  modules.set(file, { exports, imports });
}

const problems = [];
const subsystemOf = (file) => {
  const path = rel(file);
  return path.startsWith("src/") ? path.split("/")[1] : undefined;
};

// 1. Doors, and 2. the subsystem graph.
const graph = new Map();
for (const [file, { imports }] of modules) {
  const from = subsystemOf(file);
  if (!from || !file.endsWith(".ts")) continue;
  for (const { target } of imports) {
    const to = subsystemOf(target);
    if (!to || to === from) continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from).add(to);
    if (rel(target) !== `src/${to}/index.ts`)
      problems.push(`${rel(file)} imports ${rel(target)}: other subsystems are reached through src/${to}/index.ts`);
  }
}
const visiting = new Set();
const done = new Set();
function visit(node, path) {
  if (done.has(node)) return;
  if (visiting.has(node)) {
    problems.push(`subsystems import each other in a cycle: ${[...path.slice(path.indexOf(node)), node].join(" → ")}`);
    return;
  }
  visiting.add(node);
  for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
  visiting.delete(node);
  done.add(node);
}
for (const node of graph.keys()) visit(node, []);

// 3. Exports that nothing imports (a re-export counts as a use only if the door's name is used).
const used = new Set();
const mark = (target, name) => {
  const key = `${target}#${name}`;
  if (used.has(key)) return;
  used.add(key);
  const module = modules.get(target);
  if (!module) return;
  if (name === "*") {
    for (const exported of module.exports.keys()) mark(target, exported);
    return;
  }
  const exported = module.exports.get(name);
  if (exported?.from) mark(exported.from, exported.name);
};
for (const { imports } of modules.values())
  for (const { target, name, reexport } of imports) if (!reexport) mark(target, name);
for (const [file, { exports }] of modules) {
  if (!rel(file).startsWith("src/")) continue;
  for (const name of exports.keys())
    if (!used.has(`${file}#${name}`)) problems.push(`${rel(file)} exports ${name}, which nothing imports`);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`✘ ${problem}`);
  console.error(`\n${problems.length} structure problem(s). How to fix: import other subsystems through their index.ts, break the cycle, or remove (or stop exporting) what nothing uses.`);
  process.exit(1);
}
console.log(`✔ structure: ${modules.size} files; every subsystem reached through its door, no cycles, no unused exports`);
