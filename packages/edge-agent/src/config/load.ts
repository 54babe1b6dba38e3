/**
 * Reading the config file: YAML or JSON (JSON is YAML), at most 1 MiB, validated with the
 * schema. Each problem is reported as its field, the value found, what is wrong, and what the
 * field is for (the schema's own description): enough to fix it without reading the code.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { EdgeError } from '../errors.js';
import { NotSmallFile, readSmallFile } from '../small-file.js';
import { Devices, EdgeConfig } from './schema.js';

export const MAX_CONFIG_BYTES = 1024 * 1024;

interface ZodNode { description?: string; _zod: { def: Record<string, unknown> } }

/** The description of the schema at `path` (walking objects, optionals, defaults, unions by their `driver`). */
export function describeField(schema: unknown, path: readonly PropertyKey[], input: unknown): string | undefined {
  let s = schema as ZodNode | undefined;
  let value = input;
  let described: string | undefined = s?.description;
  const unwrap = () => {
    for (let i = 0; s && i < 10; i++) {
      const d = s._zod.def;
      if (s.description) described = s.description;
      if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') && d.innerType) s = d.innerType as ZodNode;
      else if (d.type === 'union' && Array.isArray(d.options)) {
        const driver = value && typeof value === 'object' ? (value as Record<string, unknown>).driver : undefined;
        const hit = (d.options as ZodNode[]).find((o) => {
          const shape = o._zod.def.shape as Record<string, ZodNode> | undefined;
          const lit = shape?.driver?._zod.def.values as unknown[] | undefined;
          return lit?.includes(driver);
        }) ?? (d.options as ZodNode[]).find((o) => o._zod.def.type === 'object');
        if (!hit || hit === s) return;
        s = hit;
      } else return;
    }
  };
  for (const key of path) {
    unwrap();
    if (!s) return described;
    const d = s._zod.def;
    described = undefined;
    if (d.type === 'object') s = (d.shape as Record<string, ZodNode>)[String(key)];
    else if (d.type === 'record' || d.type === 'array') s = (d.valueType ?? d.element) as ZodNode;
    else return undefined;
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[String(key)] : undefined;
    described = s?.description;
  }
  unwrap();
  return described;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[String(k)] : undefined;
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The drivers a device of `devices.<role>` may name. */
export function driversFor(role: string): string[] {
  let s = (Devices.shape as unknown as Record<string, ZodNode | undefined>)[role];
  while (s && s._zod.def.type === 'optional') s = s._zod.def.innerType as ZodNode;
  const options = (s?._zod.def.options ?? []) as ZodNode[];
  return options.flatMap((o) => ((o._zod.def.shape as Record<string, ZodNode>).driver?._zod.def.values ?? []) as string[]);
}

/** One line per problem: `devices.relay.driver: found "gpoi": ...; this field: ...`. */
export function explainConfigError(err: z.ZodError, input: unknown): string[] {
  return err.issues.slice(0, 20).map((i) => {
    const field = i.path.length ? i.path.map(String).join('.') : '(the whole file)';
    let what = describeField(EdgeConfig, i.path, input);
    let problem = i.message;
    if (i.code === 'invalid_union' && i.path[0] === 'devices' && i.path.length >= 2) {
      problem = `no driver of that name; a ${String(i.path[1])} may use ${driversFor(String(i.path[1])).join(', ')}`;
      what = describeField(Devices, [i.path[1]!], undefined);
    }
    if (i.code === 'unrecognized_keys') problem = `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}: check the spelling against \`keymesh-edge schema\``;
    return `${field}: found ${show(valueAt(input, i.path))}: ${problem}${what ? `. This field: ${what}` : ''}`;
  });
}

/** Validates a config already parsed (a test, a JSON document); relative `data` is taken from `baseDir`. */
export function parseConfig(input: unknown, source: string, baseDir: string): EdgeConfig {
  const r = EdgeConfig.safeParse(input ?? {});
  if (!r.success) {
    const lines = explainConfigError(r.error, input);
    throw new EdgeError('BAD_CONFIG', `${source} is not a valid config:\n  ${lines.join('\n  ')}`, { path: source, problems: lines.length });
  }
  const c = r.data;
  return { ...c, data: isAbsolute(c.data) ? c.data : resolve(baseDir, c.data) };
}

export function loadConfig(path: string): EdgeConfig {
  let text: string;
  try {
    text = readSmallFile(path, MAX_CONFIG_BYTES);
  } catch (err) {
    if (err instanceof NotSmallFile && err.why === 'too_large') throw new EdgeError('BAD_CONFIG', `${path} is over ${MAX_CONFIG_BYTES} bytes: that is not a config file.`, { path });
    if (err instanceof NotSmallFile) throw new EdgeError('BAD_CONFIG', `${err.message}: give the path of the agent's config file (see hardware/examples/).`, { path });
    throw new EdgeError('BAD_CONFIG', `${path} cannot be read: ${(err as Error).message}. Give the path of the agent's config (see hardware/examples/ for one per kind of hardware).`, { path });
  }
  let input: unknown;
  try {
    input = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new EdgeError('BAD_CONFIG', `${path} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}. Fix the syntax at that line.`, { path });
  }
  return parseConfig(input, path, dirname(resolve(path)));
}

/** Export for `keymesh-edge schema`: the config's JSON Schema with every field's description. */
export { EdgeConfig };
