import Testing

@testable import TrialScheduler

@Suite("Metric lines")
struct MetricReportTests {
  @Test("a step and numeric metrics")
  func parsesStepAndMetrics() {
    let report = MetricReport.parse(#"{"step": 3, "val_accuracy": 0.91, "loss": 0.27}"#)
    #expect(report?.step == 3)
    #expect(report?.values == ["val_accuracy": 0.91, "loss": 0.27])
    #expect(report?.isFinal == false)
  }

  @Test("final marks the trial's results")
  func parsesFinal() {
    let report = MetricReport.parse(#"{"final": true, "val_accuracy": 0.93, "note": "text is ignored"}"#)
    #expect(report?.isFinal == true)
    #expect(report?.values == ["val_accuracy": 0.93])
  }

  @Test("Python's bare NaN and ±Infinity are values, and named as not finite")
  func keepsNonFiniteValues() throws {
    let report = try #require(
      MetricReport.parse(#"{"step": 1, "loss": NaN, "val_loss": -Infinity, "grad": Infinity, "acc": 0.5}"#))
    #expect(report.nonFinite == ["grad", "loss", "val_loss"])
    #expect(report.values["acc"] == 0.5)
    #expect(report.values["loss"]?.isNaN == true)
    #expect(report.values["val_loss"] == -.infinity)
    #expect(report.values["grad"] == .infinity)
    // as strings too, as protobuf's JSON writes them
    #expect(MetricReport.parse(#"{"loss": "NaN"}"#)?.values["loss"]?.isNaN == true)
  }

  @Test(
    "garbage is rejected",
    arguments: ["not json", "[1, 2]", "{}", #"{"step": -1, "a": 1}"#, #"{"step": 1.5, "a": 1}"#, #"{"a": "x"}"#])
  func rejectsGarbage(_ text: String) {
    #expect(MetricReport.parse(text) == nil)
  }
}
