"""A model written for TRAC's own runtime (tracdap-runtime): it declares its parameters, its input
and its output with their schemas, and TRAC checks the data against them. Conveyor reads the
declarations at import and runs it with `python -m tracdap.rt.launch`.

Import it with language `trac` and entry point `trac_example.scale_model.ScaleModel`."""
import typing as tp

import tracdap.rt.api as trac


class ScaleModel(trac.TracModel):

    def define_parameters(self) -> tp.Dict[str, trac.ModelParameter]:
        return trac.define_parameters(
            trac.P("factor", trac.FLOAT, label="Multiplier applied to each balance"),
            trac.P("suffix", trac.STRING, label="Suffix appended to each key", default_value=""),
            trac.P("fail", trac.BOOLEAN, label="Fail on purpose (to see how a failure is reported)", default_value=False))

    def define_inputs(self) -> tp.Dict[str, trac.ModelInputSchema]:
        accounts = trac.define_input_table(
            trac.F("key", trac.STRING, label="Account key", business_key=True),
            trac.F("value", trac.FLOAT, label="Balance"),
            trac.F("count", trac.INTEGER, label="Number of items", not_null=False),
            label="Accounts to scale")
        return {"accounts": accounts}

    def define_outputs(self) -> tp.Dict[str, trac.ModelOutputSchema]:
        scaled = trac.define_output_table(
            trac.F("key", trac.STRING, label="Account key (with suffix)", business_key=True),
            trac.F("scaled_value", trac.FLOAT, label="Balance times factor"),
            trac.F("count", trac.INTEGER, label="Number of items"),
            label="Scaled accounts")
        return {"scaled": scaled}

    def run_model(self, ctx: trac.TracContext):
        factor = ctx.get_parameter("factor")
        suffix = ctx.get_parameter("suffix")
        if ctx.get_parameter("fail"):
            raise RuntimeError("failing on purpose: the parameter 'fail' is true")
        accounts = ctx.get_pandas_table("accounts")
        ctx.log().info(f"scaling {len(accounts)} accounts by {factor}")
        scaled = accounts[["key", "count"]].copy()
        scaled["key"] = scaled["key"] + suffix
        scaled["scaled_value"] = accounts["value"] * factor
        ctx.put_pandas_table("scaled", scaled[["key", "scaled_value", "count"]])
