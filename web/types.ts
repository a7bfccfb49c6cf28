/** The shapes the management API answers with, as far as the dashboard reads them. */

export interface EndpointSummary {
  name: string;
  auth_mode: string;
  provisioning_state: string;
  scoring_uri: string;
  openapi_uri: string;
  traffic: Record<string, number>;
  mirror_traffic: Record<string, number>;
  deployments: string[];
  deployment_states: Record<string, string>;
  requests_per_second: number;
  p99_ms: number | null;
  error_rate: number;
  requests_per_minute: number[];
  rollout: string | null;
}

export interface Alert {
  id: number;
  rule: string;
  endpoint: string;
  deployment: string;
  severity: string;
  state: string;
  summary: string;
  startsAt: string;
  endsAt: string | null;
}

export interface Overview {
  endpoints: EndpointSummary[];
  alerts: Alert[];
}

export interface Diagnosis {
  code: string;
  cause: string;
  evidence: string[];
  fix: string;
}

export interface Instance {
  id: string;
  state: string;
  pid: number;
  restarts: number;
  peak_rss_mib: number;
  last_exit?: string;
  out_of_rotation_ms?: number;
}

export interface Deployment {
  name: string;
  endpoint_name: string;
  provisioning_state: string;
  model: string;
  instance_type: string;
  instance_count: number;
  memory_limit_mib: number;
  request_settings: { request_timeout_ms: number; max_concurrent_requests_per_instance: number };
  instances: Instance[];
  error: { code: string; summary: string; fix?: string } | null;
  diagnoses?: Diagnosis[];
}

export interface SecondStats {
  t: number;
  requests: number;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface EngineEvent {
  at: string;
  kind: string;
  instance: string | null;
  message: string;
  deployment?: string | null;
}

export interface Check {
  line: string;
  ok?: boolean;
}

export interface Step {
  index: number;
  label: string;
  startedAt: string;
  endedAt?: string;
  verdict?: string;
  reason?: string;
  checks?: Check[];
  compared?: number;
}

export interface Rollout {
  id: number;
  endpoint: string;
  candidate: string;
  stable: string;
  state: string;
  step: number;
  startedAt: string;
  endedAt?: string;
  reason?: string;
  steps: Step[];
  notes: string[];
  diagnosis?: Diagnosis[];
  spec: { strategy: { type: string } };
}

export interface ModelSummary {
  name: string;
  description: string;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  latestVersion: number | null;
  versions: number[];
}

export interface Finding {
  severity: string;
  code: string;
  message: string;
}

export interface ModelVersion {
  name: string;
  version: number;
  source: string;
  createdAt: string;
  sizeBytes: number;
  flavors: Record<string, unknown>;
  inputExample: unknown;
  artifacts: { path: string; sha256: string; size: number }[];
  findings: Finding[];
  tags: Record<string, string>;
  aliases: string[];
}

export interface ModelDetail extends Omit<ModelSummary, "versions"> {
  versions: ModelVersion[];
}

export interface ApiError {
  code: string;
  summary: string;
  details?: string[];
  fix?: string;
}
