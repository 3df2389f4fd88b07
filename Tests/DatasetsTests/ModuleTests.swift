import Datasets
import Testing

@Test func moduleHasAVersion() {
  #expect(DatasetsModule.version == "0.1.0")
}
