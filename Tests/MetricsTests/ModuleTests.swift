import Metrics
import Testing

@Test func moduleHasAVersion() {
  #expect(MetricsModule.version == "0.1.0")
}
