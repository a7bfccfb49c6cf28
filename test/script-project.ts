/**
 * A scoring-script project as Azure ML's examples lay one out: a model folder (a scikit-learn
 * classifier saved with joblib), a code folder with score.py, a conda file, and a deployment YAML.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
export const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.1, 4.4, 1.4],
  [6.3, 3.3, 6.0, 2.5],
];

export const SCORE_PY = `import json, os
import joblib

model = None

def init():
    global model
    # A folder model keeps its folder name under AZUREML_MODEL_DIR, as on Azure.
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.pkl"))

def run(raw_data):
    rows = json.loads(raw_data)["data"]
    if not rows:
        raise ValueError("no rows in 'data'")
    return model.predict(rows).tolist()
`;

/** The project in `dir`; yml(name) writes a deployment of it to `endpoint`; expected: scikit-learn's own predictions of ROWS. */
export function project(
  dir: string,
  script = SCORE_PY,
  endpoint = "scripts",
): { yml: (name: string) => string; expected: unknown[] } {
  mkdirSync(join(dir, "model"), { recursive: true });
  mkdirSync(join(dir, "onlinescoring"), { recursive: true });
  const out = execFileSync(
    PYTHON,
    [
      "-c",
      `import json, sys, joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X, y)
joblib.dump(model, sys.argv[1] + "/model/model.pkl")
print(json.dumps(model.predict(json.loads(sys.argv[2])).tolist()))`,
      dir,
      JSON.stringify(ROWS),
    ],
    { encoding: "utf8" },
  );
  writeFileSync(join(dir, "onlinescoring/score.py"), script);
  writeFileSync(
    join(dir, "conda.yml"),
    "name: model-env\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - scikit-learn\n    - joblib\n    - azureml-inference-server-http\n",
  );
  const yml = (name: string) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      stringify({
        $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
        name,
        endpoint_name: endpoint,
        model: { path: "./model" },
        code_configuration: { code: "./onlinescoring", scoring_script: "score.py" },
        environment: {
          conda_file: "./conda.yml",
          image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
        },
        environment_variables: { PIER_PYTHON: PYTHON },
        instance_type: "Standard_DS3_v2",
        instance_count: 1,
      }),
    );
    return file;
  };
  return { yml, expected: JSON.parse(out) };
}
