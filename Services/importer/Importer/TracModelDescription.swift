import ConveyorModels
import Foundation
import ServiceKit
import WorkerKit

/// What a `trac` model declares, read from the model class itself the way TRAC's runtime does in
/// dev mode: the class is loaded from the model's folder with the model's own environment and
/// scanned (`define_parameters`, `define_inputs`, `define_outputs`, with TRAC's own checks), and the
/// declarations come back in Conveyor's form (``ModelManifest``), each input and output with its
/// schema.
///
/// Loading the class runs the module's top-level code, as the importer's user, in a control group
/// with the importer's limits when it has containment, and with a time limit always.
struct TracModelDescription {
    /// `python describe.py ENTRY_POINT MODEL_FOLDER RESULT_FILE`: writes the declarations as JSON
    /// to RESULT_FILE, or `{"error": ...}` with why the class cannot be loaded or is not valid.
    static let script = #"""
        import datetime, decimal, json, pathlib, sys, tempfile
        sys.dont_write_bytecode = True
        entry_point, model_folder, result_file = sys.argv[1:4]
        sys.path.insert(0, model_folder)

        def finish(document, code):
            with open(result_file, "w") as out:
                json.dump(document, out)
            sys.exit(code)

        try:
            import tracdap.rt.config as cfg
            import tracdap.rt.metadata as meta
            import tracdap.rt._impl.core.plugins as plugins
            import tracdap.rt._impl.static_api as static_api
            import tracdap.rt._impl.core.repos as repos
            import tracdap.rt._impl.core.models as models
            import tracdap.rt._impl.core.type_system as types
        except Exception as error:
            finish({"error": f"the model's environment has no usable tracdap-runtime: {type(error).__name__}: {error}"}, 1)

        try:
            plugins.PluginManagerImpl.register_core_plugins()
            static_api.StaticApiImpl.register_impl()
            config = cfg.RuntimeConfig(resources={"trac_integrated": meta.ResourceDefinition(
                resourceType=meta.ResourceType.MODEL_REPOSITORY, protocol="integrated")})
            with tempfile.TemporaryDirectory(prefix="trac-describe-") as scratch:
                loader = models.ModelLoader(repos.RepositoryManager(config), pathlib.Path(scratch))
                loader.create_scope("describe")
                try:
                    stub = meta.ModelDefinition(
                        language="python", repository="trac_integrated", entryPoint=entry_point,
                        parameters={}, inputs={}, outputs={})
                    model = loader.scan_model(stub, loader.load_model_class("describe", stub))
                finally:
                    loader.destroy_scope("describe")
        except Exception as error:
            finish({"error": f"{type(error).__name__}: {error}"}, 1)

        def typed(value, type_name):
            if value is None:
                return None
            plain = types.MetadataCodec.decode_value(value)
            if isinstance(plain, datetime.datetime):
                plain = plain.isoformat() if plain.tzinfo else plain.isoformat() + "Z"
            elif isinstance(plain, (datetime.date, decimal.Decimal)):
                plain = str(plain) if isinstance(plain, decimal.Decimal) else plain.isoformat()
            return {"type": type_name, "value": plain}

        def socket(declared):
            described = {"label": declared.label or None, "optional": bool(declared.optional)}
            schema = declared.schema
            if schema is not None and schema.table is not None:
                described["schema"] = {"fields": [{
                    "fieldName": field.fieldName, "fieldType": field.fieldType.name, "label": field.label or None,
                    "businessKey": bool(field.businessKey), "notNull": bool(field.notNull)} for field in schema.table.fields]}
            return {key: value for key, value in described.items() if value is not None}

        parameters = {}
        for name, parameter in model.parameters.items():
            type_name = parameter.paramType.basicType.name
            described = {"paramType": type_name, "label": parameter.label or None,
                         "defaultValue": typed(parameter.defaultValue, type_name)}
            parameters[name] = {key: value for key, value in described.items() if value is not None}
        finish({"parameters": parameters,
                "inputs": {name: socket(declared) for name, declared in model.inputs.items()},
                "outputs": {name: socket(declared) for name, declared in model.outputs.items()}}, 0)
        """#

    /// The module file an entry point `package.module.Class` names, relative to the model's folder.
    static func moduleFiles(of entryPoint: String) -> [String] {
        let module = entryPoint.split(separator: ".").dropLast().joined(separator: "/")
        return [module + ".py", module + "/__init__.py"]
    }

    /// Reads the declarations of the class `entryPoint` in `source` with `interpreter`.
    /// - Throws: ``JobFailure`` with TRAC's reason when the class cannot be loaded or declares
    ///   something Conveyor cannot keep.
    static func read(
        entryPoint: String, source: String, interpreter: String, scratch: String, confinement: ChildProcess.Confinement,
        timeout: Duration, log: JobLogWriter
    ) async throws -> ModelManifest {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let scriptFile = scratch + "/describe.py"
        let resultFile = scratch + "/declarations.json"
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptFile))
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8"]
        let (termination, _) = try await ChildProcess.runMeasured(
            [interpreter, scriptFile, entryPoint, source, resultFile], workingDirectory: scratch, environment: environment,
            timeout: timeout, confinement: confinement
        ) { output in await log.write(output) }
        guard let data = FileManager.default.contents(atPath: resultFile) else {
            throw JobFailure("could not read the TRAC model's declarations (\(termination))")
        }
        if case .object(let document) = try? ConveyorJSON.decode(JSONValue.self, from: data), let error = document["error"]?.stringValue {
            throw JobFailure("the TRAC model \(entryPoint) cannot be loaded: \(error)")
        }
        guard termination == .exited(0) else { throw JobFailure("could not read the TRAC model's declarations (\(termination))") }
        return try ModelManifest.decode(data, from: "the TRAC model's declarations")
    }
}
