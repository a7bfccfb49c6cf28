"""Unit tests of the Python host's own logic (python3 -m unittest discover -s python/tests), run by
test/unit/python-host.test.ts: how it classifies load failures and names an answer JSON cannot hold."""
import io
import os
import pickle
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import pier_host  # noqa: E402  (importing must not touch fd 3)
from pier_script import unencodable  # noqa: E402


def raised(fn):
    try:
        fn()
    except BaseException as error:  # noqa: BLE001
        return error
    raise AssertionError("did not raise")


class Classify(unittest.TestCase):
    def test_numpy_abi_errors_are_named_whatever_wraps_them(self):
        for message in (
            "numpy.core.multiarray failed to import",
            "_ARRAY_API not found",
            "numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject",
            "A module that was compiled using NumPy 1.x cannot be run in\n NumPy 2.0.0 as it may crash.",
        ):
            def load():
                try:
                    raise ImportError(message)
                except ImportError as inner:
                    raise RuntimeError("could not load the model") from inner

            self.assertEqual(pier_host.classify(raised(load)), "numpy-abi", message)

    def test_a_missing_class_while_unpickling_is_unpickling_and_elsewhere_is_not(self):
        data = pickle.dumps(Classify)  # a class pickled by reference: loading needs this module
        module = sys.modules.pop(__name__, None)
        sys.modules[__name__] = type(sys)("empty")
        try:
            error = raised(lambda: self._load(data))
        finally:
            sys.modules[__name__] = module
        self.assertIsInstance(error, AttributeError)
        self.assertEqual(pier_host.classify(error), "unpickling")
        self.assertIsNone(pier_host.classify(raised(lambda: {}.missing)), "an AttributeError outside a pickle")
        self.assertIsNone(pier_host.classify(raised(lambda: 1 / 0)))

    def test_a_model_missing_an_attribute_its_library_reads_is_a_stale_object(self):
        import sklearn.linear_model

        model = sklearn.linear_model.LinearRegression()
        stale = raised(lambda: model.coef_)  # what a newer library reads of an object an older one saved
        self.assertEqual(pier_host.classify(stale, model), "stale-object")
        self.assertIsNone(pier_host.classify(stale), "no model: nothing to compare with")
        self.assertIsNone(pier_host.classify(raised(lambda: {}.missing), model), "another library's object")

    @staticmethod
    def _load(data):
        try:
            return pickle.load(io.BytesIO(data))
        except Exception as error:
            error.__pier_phase__ = "unpickling"  # what load_model marks
            raise

    def test_load_error_reports_the_missing_module_and_the_cause(self):
        error = raised(lambda: __import__("no_such_module_for_pier"))
        report = pier_host.load_error(error, str(error), "Traceback\n  line")
        self.assertEqual(report["module"], "no_such_module_for_pier")
        self.assertEqual(report["traceback"], ["Traceback", "  line"])
        self.assertNotIn("cause", report)


class Unencodable(unittest.TestCase):
    def test_the_first_value_json_cannot_hold_is_named_with_its_remedy(self):
        class Array:
            def tolist(self):
                return []

        class Frame:
            def to_dict(self, orient):
                return {}

        self.assertIsNone(unencodable([1, 2.5, "a", None, {"k": [True]}]))
        self.assertEqual(unencodable({"p": [1, Array()]})[1], "call .tolist() on it")
        self.assertTrue(unencodable({"p": [1, Array()]})[0].endswith(".Array"))
        self.assertEqual(unencodable([Frame()])[1], "return .to_dict(orient='records') or .tolist()")
        self.assertEqual(unencodable({(1, 2): 3})[1], "use strings as the keys")
        self.assertEqual(unencodable([object()])[1], "return lists, dicts, strings and numbers")

    def test_the_hosts_answer_names_the_failure_as_data(self):
        answer = pier_host.unencodable_answer({"p": [{1, 2}]}, TypeError("Object of type set is not JSON serializable"))
        self.assertEqual(answer["error"]["code"], "UnserializableOutput")
        self.assertEqual(answer["error"]["type"], "builtins.set")
        self.assertEqual(answer["error"]["kind"], "model")


if __name__ == "__main__":
    unittest.main()
