import Configuration
import ConveyorModels
import ServiceKit
import Testing

/// The deployment's limits as configuration gives them: `limits.*`, and a job type's own ceilings
/// (`limits.types.<TYPE>.*`), never above the deployment's.
@Suite("Deployment limits from settings")
struct DeploymentLimitsSettingsTests {
    @Test("a type's keys give it a ceiling of its own, capped by the deployment's; other types keep the deployment's")
    func typeCeilings() {
        let settings = ConveyorSettings(
            reader: ConfigReader(
                provider: InMemoryProvider(values: [
                    "limits.maxMemoryMB": 8192, "limits.maxRunSeconds": 3600,
                    "limits.types.IMPORT_DATA.maxMemoryMB": 512, "limits.types.IMPORT_DATA.maxRunSeconds": 99_999,
                ])))
        let limits = settings.deploymentLimits
        #expect(limits.ceiling(for: .importData) == ResourceCeiling(maxCpus: 64, maxMemoryMB: 512, maxGpus: 16, maxRunSeconds: 3600))
        #expect(limits.ceiling(for: .runModel) == ResourceCeiling(maxCpus: 64, maxMemoryMB: 8192, maxGpus: 16, maxRunSeconds: 3600))
        #expect(limits.byType.keys.sorted { $0.rawValue < $1.rawValue } == [.importData])
    }
}
