/** Every command pier has, in the order `pier --help` lists them. */
import type { CommandDefinition } from "./command.js";
import { dataSynth } from "./commands/data-synth.js";
import { deploymentCreate, deploymentUpdate } from "./commands/deployment-create.js";
import {
  deploymentDelete,
  deploymentGetLogs,
  deploymentList,
  deploymentShow,
} from "./commands/deployment-show.js";
import { doctor } from "./commands/doctor.js";
import { endpointCreate } from "./commands/endpoint-create.js";
import { endpointGetCredentials, endpointRegenerateKeys } from "./commands/endpoint-credentials.js";
import { endpointInvoke } from "./commands/endpoint-invoke.js";
import { endpointDelete, endpointList, endpointShow } from "./commands/endpoint-show.js";
import { endpointUpdate } from "./commands/endpoint-update.js";
import { envBuild, envList, envShow } from "./commands/env.js";
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
import { up } from "./commands/up.js";

export const COMMANDS = [
  up,
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
  endpointCreate,
  endpointUpdate,
  endpointShow,
  endpointList,
  endpointDelete,
  endpointInvoke,
  endpointGetCredentials,
  endpointRegenerateKeys,
  deploymentCreate,
  deploymentUpdate,
  deploymentShow,
  deploymentList,
  deploymentDelete,
  deploymentGetLogs,
  envBuild,
  envList,
  envShow,
  doctor,
] as unknown as readonly CommandDefinition<never>[];
