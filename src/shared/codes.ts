/**
 * Every code pier reports (errors, validation findings, diagnoses, gateway answers) in one table:
 * its class, the HTTP status it answers with and the CLI exit code it ends a command with.
 *
 * - user: the caller's input or state is wrong (a request, a YAML key, a name); they can fix it.
 * - model: the model package, its environment or its code fails; the fix is in the model's files.
 * - system: the machine or pier itself (a port in use, no package index, a bug in pier).
 *
 * Exit codes: 1 the command ran and found or hit a failure, 2 the command line itself is wrong
 * (usage), 70 a bug in pier.
 */

export type CodeClass = "user" | "model" | "system";

export interface CodeInfo {
  readonly class: CodeClass;
  readonly http: number;
  readonly exit: 1 | 2 | 70;
}

const user = (http = 400): CodeInfo => ({ class: "user", http, exit: 1 });
const usage: CodeInfo = { class: "user", http: 400, exit: 2 };
const model = (http = 400): CodeInfo => ({ class: "model", http, exit: 1 });
const system = (http = 500): CodeInfo => ({ class: "system", http, exit: 1 });

export const CODES = {
  // The command line.
  UnknownCommand: usage,
  UnknownOption: usage,
  MissingArgument: usage,
  BadOptionValue: usage,
  /** The person at the terminal said no. */
  Cancelled: user(),

  // Input, names and state that the caller controls.
  BadArgument: user(),
  BadRequest: user(),
  FileNotFound: user(),
  PermissionDenied: user(),
  /** A path the file system refuses for what it is (a symlink loop, a name too long, a file for a folder). */
  PathUnusable: user(),
  /** A path that is not a regular file (a FIFO, a device, /proc) where a file's content is read. */
  NotARegularFile: user(),
  /** Writing to the user's folder took past its deadline (a hung network disk). */
  OutputTimedOut: system(504),
  /** A pipeline step's work (training, scoring held-out rows) ran past its deadline and was stopped. */
  WorkTimedOut: system(504),
  AlreadyRunning: user(409),
  PierNotRunning: system(503),
  DiskFull: system(507),
  Unauthorized: user(401),
  RouteNotFound: user(404),
  NotFound: user(404),
  MethodNotAllowed: user(405),
  EndpointNotFound: user(404),
  EndpointExists: user(409),
  DeploymentNotFound: user(404),
  DeploymentExists: user(409),
  RolloutInProgress: user(409),
  RolloutNotFound: user(404),
  RolloutNotApplicable: user(409),
  NotExportable: user(409),
  OutOfQuota: user(409),
  ModelNotFound: user(404),
  ModelVersionNotFound: user(404),
  ModelVersionConflict: user(409),
  EnvironmentVersionConflict: user(409),
  /** The pipeline gate cannot show which rows are new to the champion. */
  GateUnfair: user(409),
  /** Too few rows are new to both the challenger and the champion to compare them. */
  GateEvidenceInsufficient: user(),
  ModelHasNoVersions: user(404),
  AliasNotFound: user(404),
  InvalidTag: user(),
  InvalidModelName: user(),
  InvalidAlias: user(),
  TagNotFound: user(404),
  InvalidModelUri: user(),
  UnsupportedModelUri: user(),
  ReservedAlias: user(),
  StagesNotSupported: user(),
  EnvironmentNotFound: user(404),
  ModelSourceNotFound: user(),
  CsvNotFound: user(),
  CsvEmpty: user(),
  CsvMalformed: user(),
  CsvColumnMissing: user(),
  CsvValueInvalid: user(),
  CsvValueMissing: user(),
  TargetUnknown: user(),
  TargetValueMissing: user(),
  TargetTooRare: user(),
  TargetNotBinary: user(),
  OutputExists: user(409),

  // A scoring request that does not fit the model (gateway 4xx).
  InvalidJson: user(),
  MissingInputData: user(),
  MissingInputs: user(),
  IncompatibleInputTypes: user(),
  BadShape: user(),
  InputShapeMismatch: user(),
  InputTypeMismatch: user(),
  InputConversionFailed: user(),
  UnknownInput: user(),
  UnknownOutput: user(),
  InvalidDatatype: user(),
  ModelNotServed: user(404),
  EmptyInput: user(),
  SchemaRequired: user(),
  PayloadTooLarge: user(413),
  HeadersTooLarge: user(431),
  UnsupportedMediaType: user(415),
  NoValidDeployment: user(404),
  TooManyRequests: user(429),
  RequestTimeout: user(408),
  /** The client went away before its request was whole (nginx's 499): counted apart from pier's failures. */
  ClientClosedRequest: user(499),
  /** A Host header that is not pier's own (a DNS-rebinding page): the management side refuses it. */
  HostNotAllowed: user(403),
  /** A client (or all of them) holds more connections than pier up takes at once. */
  TooManyConnections: user(429),
  /** `invoke` got an answer other than 200 (its status and body in the summary). */
  InvokeFailed: user(),

  // The model package (validation findings; errors block registration and deployment).
  ModelValidationFailed: model(),
  MLmodelMissing: model(),
  MLmodelNested: model(),
  MLmodelIsFolder: model(),
  MLmodelMalformed: model(),
  FlavorsMissing: model(),
  ArtifactMissing: model(),
  ArtifactEmpty: model(),
  ArtifactLfsPointer: model(),
  ArtifactPathEscapes: model(),
  ArtifactCorrupted: model(),
  PyfuncFlavorMissing: model(),
  EnvFileMissing: model(),
  EnvFileMalformed: model(),
  RequirementMalformed: model(),
  RequirementDirectReference: model(),
  RequirementOptionIgnored: model(),
  EnvNotDeclared: model(),
  SignatureMalformed: model(),
  SignatureMissing: model(),
  InputExampleMissing: model(),
  InputExampleMalformed: model(),
  InputExampleMismatch: model(),
  PackageUnpinned: model(),
  EnvFilesDisagree: model(),
  PythonVersionMismatch: model(),
  MlflowVersionMismatch: model(),
  FlavorVersionMismatch: model(),
  PackageNotNeeded: model(),
  PythonUnsupported: model(),
  CompatibilityUnknown: model(),
  PickleExecutesCode: model(),
  TargetLeakage: model(),
  OnnxFlavorMissing: model(),
  OnnxLoadFailed: model(),
  OnnxInputUnsupported: model(),
  OnnxOutputUnsupported: model(),
  SignatureGraphMismatch: model(),
  RuntimeNotAvailable: model(),

  // The environment a model needs.
  EnvironmentUnresolvable: model(),
  NumpyAbiConflict: model(),
  PackageMissing: model(),
  PickleVersionDrift: model(),
  /** A pickle the scan could not read to its end: a note; the interpreter decides at startup. */
  PickleScanIncomplete: model(),
  ModuleNotShipped: model(),
  InstalledVersionsDiffer: model(),
  EnvironmentBuildFailed: model(),
  NothingToBuild: user(),
  PythonNotFound: system(),
  EnvironmentBuilderMissing: system(),
  EnvironmentBusy: system(503),
  IndexUnreachable: system(503),

  // Starting and running instances (deployment outcomes and the doctor's diagnoses).
  UserScriptImportError: model(),
  UserScriptFunctionNotFound: model(),
  UserScriptInitFailed: model(),
  UserScriptRunInvalid: model(),
  ModelLoadFailed: model(),
  OutOfMemory: model(),
  ResourceNotReady: model(),
  CrashLoop: model(),
  ContainerCrashed: model(),
  LivenessProbeFailed: model(),
  ReadinessProbeFailed: model(),
  InstanceUnresponsive: model(),
  ModelError: model(424),
  /** What one machine cannot run, each a cause of its own (engine/azure-only.ts). */
  CustomContainerUnsupported: model(),
  TritonModelUnsupported: model(),
  IdentityUnavailable: model(),
  /** A GPU VM size: run on this machine's CPU (a warning). */
  GpuNotAvailable: model(),
  /** The model answered with something JSON cannot hold (a numpy array, a DataFrame): Azure answers 500, the endpoint 424. */
  UnserializableOutput: model(424),
  BadGateway: system(502),
  NoReadyInstance: system(503),
  DeploymentNotReady: system(503),

  // The machine and pier itself.
  PortInUse: system(),
  OnnxParityFailed: { class: "system", http: 500, exit: 70 },
  ApiError: { class: "system", http: 502, exit: 70 },
  InternalError: { class: "system", http: 500, exit: 70 },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/** What the table says of a code. */
export function codeInfo(code: Code): CodeInfo {
  return CODES[code];
}

/** Whether a string (e.g. read back from JSON) is one of pier's codes. */
export function isCode(text: string): text is Code {
  return Object.hasOwn(CODES, text);
}
