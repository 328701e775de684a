import SearchStrategies
import StudyModel
import Testing

@testable import TrialScheduler

@Suite("Command placeholders")
struct CommandTemplateTests {
  let configuration = Configuration(["lr": .double(0.01), "hidden": .int(64), "optimizer": .string("adam")])

  @Test("parameters and tier keys expand inside arguments")
  func expandsPlaceholders() {
    let argv = CommandTemplate.expand(
      ["python3", "train.py", "--lr={lr}", "--hidden={hidden}", "--opt={optimizer}", "--epochs={tier.epochs}"],
      configuration: configuration, tierValues: ["epochs": .int(3)])
    #expect(argv == ["python3", "train.py", "--lr=0.01", "--hidden=64", "--opt=adam", "--epochs=3"])
  }

  @Test("an argument naming an inactive conditional parameter is left out whole")
  func dropsInactiveParameterArguments() {
    let argv = CommandTemplate.expand(
      ["train", "--momentum={momentum}", "--lr={lr}"], configuration: configuration, tierValues: [:])
    #expect(argv == ["train", "--lr=0.01"])
  }

  @Test("doubled braces and braces around code stay literal")
  func keepsLiteralBraces() {
    let argv = CommandTemplate.expand(
      ["{{lr}}", "print({'a': 1})", "x}}y", "{not a name}"], configuration: configuration, tierValues: [:])
    #expect(argv == ["{lr}", "print({'a': 1})", "x}y", "{not a name}"])
  }

  @Test("a float keeps a decimal point, so a trainer parsing floats never sees an int")
  func formatsFloats() {
    let argv = CommandTemplate.expand(
      ["{a}", "{b}"], configuration: Configuration(["a": .double(3), "b": .double(1e-5)]), tierValues: [:])
    #expect(argv == ["3.0", "1e-05"])
  }
}
