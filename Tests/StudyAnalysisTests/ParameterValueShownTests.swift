import SearchStrategies
import StudyAnalysis
import StudyModel
import Testing

@Suite("Parameter values as people read them")
struct ParameterValueShownTests {
  @Test("a float is shown at four digits, everything else as written; the exact value stays for commands")
  func shown() {
    let noisy = ParameterValue.double(1.0000000000000004e-06)
    #expect(noisy.shown == "1e-06")
    #expect(noisy.description != "1e-06", "commands and JSON keep every digit")
    #expect(ParameterValue.double(0.025177401082810098).shown == "0.02518")
    #expect(ParameterValue.int(128).shown == "128")
    #expect(ParameterValue.string("adam").shown == "adam")
  }
}
