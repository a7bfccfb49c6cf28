/** Every command pier has, in the order `pier --help` lists them. */
import type { CommandDefinition } from "./command.js";
import { dataSynth } from "./commands/data-synth.js";
import { testLocal } from "./commands/test-local.js";
import { train } from "./commands/train.js";

export const COMMANDS: readonly CommandDefinition<never>[] = [
  dataSynth,
  train,
  testLocal,
] as unknown as CommandDefinition<never>[];
