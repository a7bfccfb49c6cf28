"""Writes MLflow `onnx` model folders the way other tools make them, for pier's tests.

Usage: python3 make_onnx.py OUT_DIR [--bench]   (--bench: only the benchmark's MLP)

Each graph follows a real exporter's conventions (Debian's python3-onnx builds them; no pier code is
involved): PyTorch's torch.onnx.export (input "input", a named dynamic axis "batch_size", Linear as
Gemm with transB=1), tf2onnx for Keras (input "dense_input", an "unk__" dimension), skl2onnx
classifiers (LinearClassifier → Normalizer → ZipMap, labels as int64 or strings, outputs
"output_label" and "output_probability"), and MLmodel files as mlflow.onnx.save_model writes them
(tensor signatures as JSON strings, external data in model.onnx.data, input_example.json in
tf-serving form). Prints a JSON summary: for each folder, the inputs that the tests feed and what
onnxruntime is expected to answer is computed by the tests themselves with onnxruntime-node.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

OUT = sys.argv[1]
rng = np.random.default_rng(7)


def tensor_value(name, elem, shape):
    return h.make_tensor_value_info(name, elem, shape)


def sequence_of_maps(key_type):
    t = onnx.TypeProto()
    t.sequence_type.elem_type.map_type.key_type = key_type
    t.sequence_type.elem_type.map_type.value_type.CopyFrom(h.make_tensor_type_proto(T.FLOAT, []))
    return t


def signature_entry(dtype, shape, name=None):
    entry = {"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": shape}}
    if name:
        entry = {"name": name, **entry}
    return entry


def write(folder, graph, producer=("pytorch", "2.1.0"), ml=False, inputs=None, outputs=None, example=None,
          external=False, opset=17, ml_opset=1):
    path = os.path.join(OUT, folder)
    os.makedirs(path, exist_ok=True)
    opsets = [h.make_opsetid("", opset)]
    if ml:
        opsets.append(h.make_opsetid("ai.onnx.ml", ml_opset))
    model = h.make_model(graph, opset_imports=opsets, producer_name=producer[0], producer_version=producer[1])
    model.ir_version = 8
    onnx.checker.check_model(model)
    if external:
        # mlflow.onnx.save_model(save_as_external_data=True), its default since MLflow 2.?: weights beside the graph.
        onnx.save_model(model, os.path.join(path, "model.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    else:
        onnx.save_model(model, os.path.join(path, "model.onnx"))
    mlmodel = [
        "artifact_path: model",
        "flavors:",
        "  onnx:",
        "    code: null",
        "    data: model.onnx",
        "    onnx_version: 1.15.0",
        "    providers:",
        "    - CUDAExecutionProvider",
        "    - CPUExecutionProvider",
        "  python_function:",
        "    data: model.onnx",
        "    env:",
        "      conda: conda.yaml",
        "      virtualenv: python_env.yaml",
        "    loader_module: mlflow.onnx",
        "    python_version: 3.10.12",
        "mlflow_version: 2.9.2",
        "model_uuid: 2b0f3c1e9d8a4f6b8c7d5e4f3a2b1c0d",
        "run_id: 6f1e0d9c8b7a4e3d2c1b0a9f8e7d6c5b",
    ]
    if inputs is not None:
        mlmodel += [
            "signature:",
            f"  inputs: '{json.dumps(inputs)}'",
            f"  outputs: '{json.dumps(outputs)}'" if outputs is not None else "  outputs: null",
            "  params: null",
        ]
    if example is not None:
        mlmodel += [
            "saved_input_example_info:",
            "  artifact_path: input_example.json",
            "  type: ndarray",
            "  format: tf-serving",
        ]
        with open(os.path.join(path, "input_example.json"), "w") as f:
            json.dump(example, f)
    mlmodel.append("utc_time_created: '2023-12-04 10:21:33.170184'")
    with open(os.path.join(path, "MLmodel"), "w") as f:
        f.write("\n".join(mlmodel) + "\n")
    pins = ["mlflow==2.9.2", "onnx==1.15.0", "onnxruntime==1.16.3", "numpy==1.24.4"]
    with open(os.path.join(path, "requirements.txt"), "w") as f:
        f.write("\n".join(pins) + "\n")
    with open(os.path.join(path, "conda.yaml"), "w") as f:
        f.write("channels:\n- conda-forge\ndependencies:\n- python=3.10.12\n- pip<=23.3.1\n- pip:\n"
                + "".join(f"  - {p}\n" for p in pins) + "name: mlflow-env\n")
    with open(os.path.join(path, "python_env.yaml"), "w") as f:
        f.write("python: 3.10.12\nbuild_dependencies:\n- pip==23.3.1\n- setuptools==68.2.2\n- wheel==0.41.3\n"
                "dependencies:\n- -r requirements.txt\n")


def linear10():
    # torch.onnx.export(nn.Linear(10, 1), x, input_names=["input"], output_names=["output"],
    #                   dynamic_axes={"input": {0: "batch_size"}, "output": {0: "batch_size"}})
    w = nh.from_array(rng.normal(size=(1, 10)).astype(np.float32), "linear.weight")
    b = nh.from_array(np.array([0.25], dtype=np.float32), "linear.bias")
    g = h.make_graph(
        [h.make_node("Gemm", ["input", "linear.weight", "linear.bias"], ["output"], name="/linear/Gemm",
                     alpha=1.0, beta=1.0, transB=1)],
        "main_graph",
        [tensor_value("input", T.FLOAT, ["batch_size", 10])],
        [tensor_value("output", T.FLOAT, ["batch_size", 1])],
        [w, b],
    )
    write("linear10", g, inputs=[signature_entry("float32", [-1, 10])],
          outputs=[signature_entry("float32", [-1, 1])],
          example={"inputs": rng.normal(size=(2, 10)).round(3).tolist()}, external=True)


def mlp10():
    # torch.onnx.export(nn.Sequential(nn.Linear(10, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
    #                   nn.Linear(1024, 1)), …): a tabular MLP as PyTorch writes it, for the benchmark.
    sizes = [10, 1024, 1024, 1]
    nodes, inits, last = [], [], "input"
    for i, (m, n) in enumerate(zip(sizes, sizes[1:])):
        w = nh.from_array((rng.normal(size=(n, m)) / np.sqrt(m)).astype(np.float32), f"{2 * i}.weight")
        b = nh.from_array(np.zeros(n, dtype=np.float32), f"{2 * i}.bias")
        inits += [w, b]
        out = "output" if i == len(sizes) - 2 else f"/{2 * i}/Gemm_output_0"
        nodes.append(h.make_node("Gemm", [last, w.name, b.name], [out], name=f"/{2 * i}/Gemm", transB=1))
        if out != "output":
            nodes.append(h.make_node("Relu", [out], [f"/{2 * i + 1}/Relu_output_0"], name=f"/{2 * i + 1}/Relu"))
            last = f"/{2 * i + 1}/Relu_output_0"
    g = h.make_graph(nodes, "main_graph", [tensor_value("input", T.FLOAT, ["batch_size", 10])],
                     [tensor_value("output", T.FLOAT, ["batch_size", 1])], inits)
    write("mlp10", g, inputs=[signature_entry("float32", [-1, 10])], outputs=[signature_entry("float32", [-1, 1])],
          external=True)


def keras25():
    # tf2onnx from a Keras Sequential([Dense(3, input_shape=(25,)), Dense(2, activation="softmax")])
    w1 = nh.from_array(rng.normal(size=(25, 3)).astype(np.float32), "sequential/dense/MatMul/ReadVariableOp:0")
    b1 = nh.from_array(rng.normal(size=(3,)).astype(np.float32), "sequential/dense/BiasAdd/ReadVariableOp:0")
    w2 = nh.from_array(rng.normal(size=(3, 2)).astype(np.float32), "sequential/dense_1/MatMul/ReadVariableOp:0")
    g = h.make_graph(
        [
            h.make_node("MatMul", ["dense_input", w1.name], ["m1"], name="sequential/dense/MatMul"),
            h.make_node("Add", ["m1", b1.name], ["a1"], name="sequential/dense/BiasAdd"),
            h.make_node("MatMul", ["a1", w2.name], ["m2"], name="sequential/dense_1/MatMul"),
            h.make_node("Softmax", ["m2"], ["dense_1"], name="sequential/dense_1/Softmax", axis=-1),
        ],
        "tf2onnx",
        [tensor_value("dense_input", T.FLOAT, ["unk__6", 25])],
        [tensor_value("dense_1", T.FLOAT, ["unk__7", 2])],
        [w1, b1, w2],
    )
    write("keras25", g, producer=("tf2onnx", "1.16.1 15c810"), opset=13)


def two_dtypes():
    w = nh.from_array(rng.normal(size=(6, 1)).astype(np.float32), "w")
    g = h.make_graph(
        [
            h.make_node("Cast", ["ids"], ["ids_f"], to=T.FLOAT),
            h.make_node("Concat", ["x", "ids_f"], ["xs"], axis=1),
            h.make_node("MatMul", ["xs", "w"], ["y"]),
        ],
        "two_dtypes",
        [tensor_value("x", T.FLOAT, ["N", 4]), tensor_value("ids", T.INT64, ["N", 2])],
        [tensor_value("y", T.FLOAT, ["N", 1])],
        [w],
    )
    write("two-dtypes", g, inputs=[signature_entry("float32", [-1, 4], "x"), signature_entry("int64", [-1, 2], "ids")],
          outputs=[signature_entry("float32", [-1, 1], "y")])


def int_string():
    g = h.make_graph(
        [
            h.make_node("LabelEncoder", ["category"], ["code"], domain="ai.onnx.ml",
                        keys_strings=["bronze", "silver", "gold"], values_int64s=[1, 2, 3], default_int64=0),
            h.make_node("Mul", ["code", "ten"], ["tens"]),
            h.make_node("Add", ["tens", "count"], ["score"]),
        ],
        "int_string",
        [tensor_value("category", T.STRING, [None, 1]), tensor_value("count", T.INT64, [None, 1])],
        [tensor_value("score", T.INT64, [None, 1])],
        [nh.from_array(np.array([10], dtype=np.int64), "ten")],
    )
    write("int-string", g, producer=("skl2onnx", "1.16.0"), ml=True, ml_opset=2,
          inputs=[signature_entry("object", [-1, 1], "category"), signature_entry("int64", [-1, 1], "count")],
          outputs=[signature_entry("int64", [-1, 1], "score")])


def small_types():
    # float16, bool and uint8 inputs (a half-precision export, a flag, raw pixel bytes), cast and joined.
    g = h.make_graph(
        [
            h.make_node("Cast", ["half"], ["half_f"], to=T.FLOAT),
            h.make_node("Cast", ["flag"], ["flag_f"], to=T.FLOAT),
            h.make_node("Cast", ["pixel"], ["pixel_f"], to=T.FLOAT),
            h.make_node("Concat", ["half_f", "flag_f", "pixel_f"], ["joined"], axis=1),
            h.make_node("Cast", ["joined"], ["as_half"], to=T.FLOAT16),
        ],
        "small_types",
        [tensor_value("half", T.FLOAT16, ["N", 2]), tensor_value("flag", T.BOOL, ["N", 1]),
         tensor_value("pixel", T.UINT8, ["N", 3])],
        [tensor_value("joined", T.FLOAT, ["N", 6]), tensor_value("as_half", T.FLOAT16, ["N", 6])],
    )
    write("small-types", g)


def fixed_batch():
    g = h.make_graph(
        [h.make_node("ReduceSum", ["x", "axes"], ["total"], keepdims=1)],
        "fixed_batch",
        [tensor_value("x", T.FLOAT, [1, 4])],
        [tensor_value("total", T.FLOAT, [1, 1])],
        [nh.from_array(np.array([1], dtype=np.int64), "axes")],
    )
    write("fixed-batch", g)


def two_outputs():
    g = h.make_graph(
        [
            h.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=1),
            h.make_node("Mul", ["x", "half"], ["scaled"]),
        ],
        "two_outputs",
        [tensor_value("x", T.FLOAT, ["batch", 3])],
        [tensor_value("sum", T.FLOAT, ["batch", 1]), tensor_value("scaled", T.FLOAT, ["batch", 3])],
        [nh.from_array(np.array([1], dtype=np.int64), "axes"), nh.from_array(np.array([0.5], dtype=np.float32), "half")],
    )
    write("two-outputs", g, inputs=[signature_entry("float32", [-1, 3], "x")])


def zipmap(folder, labels, external=False):
    # skl2onnx.to_onnx(LogisticRegression().fit(X, y), X[:1].astype(np.float32)), zipmap on (the default)
    coef = rng.normal(size=(len(labels), 4)).astype(np.float32)
    scale = nh.from_array(np.full((4,), 1.5, dtype=np.float32), "scale")
    strings = isinstance(labels[0], str)
    intercepts = rng.normal(size=len(labels)).astype(np.float32)
    classifier = dict(coefficients=coef.flatten().tolist(), intercepts=intercepts.tolist(),
                      multi_class=1, post_transform="LOGISTIC")
    classifier["classlabels_strings" if strings else "classlabels_ints"] = labels
    zip_attr = {"classlabels_strings" if strings else "classlabels_int64s": labels}
    nodes = [
        h.make_node("Mul", ["X", "scale"], ["scaled"], name="Scaler"),
        h.make_node("LinearClassifier", ["scaled"], ["label", "probability_tensor"], domain="ai.onnx.ml",
                    name="LinearClassifier", **classifier),
        h.make_node("Normalizer", ["probability_tensor"], ["probabilities"], domain="ai.onnx.ml", norm="L1",
                    name="Normalizer"),
        h.make_node("Identity" if strings else "Cast", ["label"], ["output_label"], name="Cast",
                    **({} if strings else {"to": T.INT64})),
        h.make_node("ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml", name="ZipMap",
                    **zip_attr),
    ]
    g = h.make_graph(
        nodes,
        "LogisticRegression",
        [tensor_value("X", T.FLOAT, [None, 4])],
        [
            tensor_value("output_label", T.STRING if strings else T.INT64, [None]),
            h.make_value_info("output_probability", sequence_of_maps(T.STRING if strings else T.INT64)),
        ],
        [scale],
    )
    write(folder, g, producer=("skl2onnx", "1.16.0"), ml=True, external=external, opset=15)
    # What the classifier answers, by its formula: LOGISTIC scores, then L1-normalised (Normalizer).
    X = rng.normal(size=(3, 4)).astype(np.float32).round(3)
    scores = (X.astype(np.float64) * 1.5) @ coef.T.astype(np.float64) + intercepts
    p = 1 / (1 + np.exp(-scores))
    p = p / p.sum(axis=1, keepdims=True)
    with open(os.path.join(OUT, f"expected-{folder}.json"), "w") as f:
        json.dump({"X": X.tolist(), "labels": [labels[i] for i in scores.argmax(axis=1)],
                   "probabilities": p.tolist(), "classes": labels}, f)


def image():
    g = h.make_graph(
        [
            h.make_node("GlobalAveragePool", ["pixel_values"], ["pooled"]),
            h.make_node("Flatten", ["pooled"], ["logits"], axis=1),
        ],
        "image",
        [tensor_value("pixel_values", T.FLOAT, ["batch_size", 3, 8, 8])],
        [tensor_value("logits", T.FLOAT, ["batch_size", 3])],
    )
    write("image", g, inputs=[signature_entry("float32", [-1, 3, 8, 8], "pixel_values")],
          outputs=[signature_entry("float32", [-1, 3], "logits")])


def cannot_run():
    # Loads, but every run fails: a Reshape to a fixed [2, 5] that no batch of 1 can take.
    g = h.make_graph(
        [h.make_node("Reshape", ["input", "shape"], ["output"])],
        "cannot_run",
        [tensor_value("input", T.FLOAT, ["batch", 10])],
        [tensor_value("output", T.FLOAT, [2, 5])],
        [nh.from_array(np.array([4, 5], dtype=np.int64), "shape")],
    )
    write("cannot-run", g)


def signature_disagrees():
    g = h.make_graph(
        [h.make_node("Identity", ["input"], ["output"])],
        "identity",
        [tensor_value("input", T.FLOAT, ["batch", 10])],
        [tensor_value("output", T.FLOAT, ["batch", 10])],
    )
    write("signature-disagrees", g, inputs=[signature_entry("int32", [-1, 9], "features")])


if "--bench" in sys.argv:
    linear10()
    mlp10()
    sys.exit(0)
linear10()
keras25()
two_dtypes()
int_string()
small_types()
fixed_batch()
two_outputs()
zipmap("zipmap-int", [0, 1, 2])
zipmap("zipmap-str", ["setosa", "versicolor", "virginica"], external=True)
image()
cannot_run()
signature_disagrees()
print(json.dumps(sorted(f for f in os.listdir(OUT) if not f.endswith(".json"))))
