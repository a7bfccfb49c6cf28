/**
 * Every command pier has, one file per verb under commands/ (the `pier az ml` forms one file per az
 * noun), in the order `pier --help` lists them.
 */
import type { AnyCommand } from "./command.js";
import { AZ_ENVIRONMENT_COMMANDS } from "./commands/az-environment.js";
import { AZ_MODEL_COMMANDS } from "./commands/az-model.js";
import { AZ_DEPLOYMENT_COMMANDS } from "./commands/az-online-deployment.js";
import { AZ_ENDPOINT_COMMANDS } from "./commands/az-online-endpoint.js";
import { dashboard } from "./commands/dashboard.js";
import { dataSynth } from "./commands/data-synth.js";
import { deploymentCreate } from "./commands/deployment-create.js";
import { deploymentDelete } from "./commands/deployment-delete.js";
import { deploymentGetLogs } from "./commands/deployment-get-logs.js";
import { deploymentList } from "./commands/deployment-list.js";
import { deploymentShow } from "./commands/deployment-show.js";
import { deploymentUpdate } from "./commands/deployment-update.js";
import { doctor } from "./commands/doctor.js";
import { doctorHistory } from "./commands/doctor-history.js";
import { endpointCreate } from "./commands/endpoint-create.js";
import { endpointDelete } from "./commands/endpoint-delete.js";
import { endpointGetCredentials } from "./commands/endpoint-get-credentials.js";
import { endpointInvoke } from "./commands/endpoint-invoke.js";
import { endpointList } from "./commands/endpoint-list.js";
import { endpointRegenerateKeys } from "./commands/endpoint-regenerate-keys.js";
import { endpointShow } from "./commands/endpoint-show.js";
import { endpointUpdate } from "./commands/endpoint-update.js";
import { envBuild } from "./commands/env-build.js";
import { envList } from "./commands/env-list.js";
import { envShow } from "./commands/env-show.js";
import { exportAzureml } from "./commands/export-azureml.js";
import { exportKserve } from "./commands/export-kserve.js";
import { modelAliasDelete } from "./commands/model-alias-delete.js";
import { modelAliasSet } from "./commands/model-alias-set.js";
import { modelDelete } from "./commands/model-delete.js";
import { modelDownload } from "./commands/model-download.js";
import { modelList } from "./commands/model-list.js";
import { modelRegister } from "./commands/model-register.js";
import { modelShow } from "./commands/model-show.js";
import { modelTagDelete } from "./commands/model-tag-delete.js";
import { modelTagSet } from "./commands/model-tag-set.js";
import { modelValidate } from "./commands/model-validate.js";
import { modelVerify } from "./commands/model-verify.js";
import { monitorAlerts } from "./commands/monitor-alerts.js";
import { monitorBaseline } from "./commands/monitor-baseline.js";
import { monitorShow } from "./commands/monitor-show.js";
import { pipelineApprove, pipelineReject } from "./commands/pipeline-decide.js";
import { pipelineResume } from "./commands/pipeline-resume.js";
import { pipelineRun } from "./commands/pipeline-run.js";
import { pipelineRuns } from "./commands/pipeline-runs.js";
import { pipelineShow } from "./commands/pipeline-show.js";
import { rolloutAbort } from "./commands/rollout-abort.js";
import { rolloutHistory } from "./commands/rollout-history.js";
import { rolloutPromote } from "./commands/rollout-promote.js";
import { rolloutResume } from "./commands/rollout-resume.js";
import { rolloutStart } from "./commands/rollout-start.js";
import { rolloutStatus } from "./commands/rollout-status.js";
import { testLocal } from "./commands/test-local.js";
import { train } from "./commands/train.js";
import { up } from "./commands/up.js";

export const COMMANDS: readonly AnyCommand[] = [
  up,
  dataSynth,
  train,
  testLocal,
  modelValidate,
  modelVerify,
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
  doctorHistory,
  rolloutStart,
  rolloutStatus,
  rolloutHistory,
  rolloutAbort,
  rolloutPromote,
  rolloutResume,
  monitorShow,
  monitorBaseline,
  monitorAlerts,
  exportAzureml,
  exportKserve,
  dashboard,
  pipelineRun,
  pipelineRuns,
  pipelineShow,
  pipelineApprove,
  pipelineReject,
  pipelineResume,
  ...AZ_ENDPOINT_COMMANDS,
  ...AZ_DEPLOYMENT_COMMANDS,
  ...AZ_MODEL_COMMANDS,
  ...AZ_ENVIRONMENT_COMMANDS,
];
