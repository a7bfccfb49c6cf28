/** Every command pier has, in the order `pier --help` lists them. */
import type { CommandDefinition } from "./command.js";
import { dataSynth } from "./commands/data-synth.js";
import { modelAliasDelete, modelAliasSet } from "./commands/model-alias.js";
import { modelDelete } from "./commands/model-delete.js";
import { modelDownload } from "./commands/model-download.js";
import { modelList } from "./commands/model-list.js";
import { modelRegister } from "./commands/model-register.js";
import { modelShow } from "./commands/model-show.js";
import { modelTagDelete, modelTagSet } from "./commands/model-tag.js";
import { modelValidate } from "./commands/model-validate.js";
import { testLocal } from "./commands/test-local.js";
import { train } from "./commands/train.js";

export const COMMANDS = [
  dataSynth,
  train,
  testLocal,
  modelValidate,
  modelRegister,
  modelList,
  modelShow,
  modelDownload,
  modelDelete,
  modelAliasSet,
  modelAliasDelete,
  modelTagSet,
  modelTagDelete,
] as unknown as readonly CommandDefinition<never>[];
