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

/**
 * A deployment view, with diagnoses when it Failed or an instance is not well. A failure has one code
 * everywhere (`deployment create`, the doctor, the dashboard): the doctor's first diagnosis, which is
 * its most fundamental cause; the code the failing step raised is kept in the error's data.
 */
export function deploymentReport(engine: Engine, view: DeploymentView): DeploymentReport {
  if (!engine.deployments.unwell(view)) return view;
  const diagnoses = diagnoseDeployment(engine.deployments.evidence(view.endpoint_name, view.name));
  const first = diagnoses[0];
  const error =
    view.error && first && first.code !== view.error.code
      ? {
          ...view.error,
          code: first.code,
          summary:
            diagnoses.length > 1
              ? `${first.cause} (and ${diagnoses.length - 1} more: ${[...new Set(diagnoses.slice(1).map((d) => d.code))].join(", ")})`
              : first.cause,
          fix: first.fix,
          data: { ...view.error.data, raisedAs: view.error.code },
        }
      : view.error;
  return { ...view, error, diagnoses };
}
