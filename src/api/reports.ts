/** The doctor's view of a deployment, as the API answers it and a rollback records it. */
import {
  type DoctorReport,
  deploymentWarnings,
  describeEvidence,
  diagnoseDeployment,
  doctorReport,
} from "../doctor/index.js";
import type { DeploymentView, Engine } from "../engine/index.js";
import type { DeploymentReport } from "./contract.js";

/** The doctor on one deployment. */
export function doctorOf(engine: Engine, endpoint: string, name: string): DoctorReport {
  const started = performance.now();
  const evidence = engine.deployments.evidence(endpoint, name);
  return doctorReport(
    `${endpoint}/${name}`,
    diagnoseDeployment(evidence),
    describeEvidence(evidence),
    started,
    deploymentWarnings(evidence),
  );
}

/** A deployment view, with diagnoses when it Failed or an instance is not well. */
export function deploymentReport(engine: Engine, view: DeploymentView): DeploymentReport {
  if (!engine.deployments.unwell(view)) return view;
  return {
    ...view,
    diagnoses: diagnoseDeployment(engine.deployments.evidence(view.endpoint_name, view.name)),
  };
}
