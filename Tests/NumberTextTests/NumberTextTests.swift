import NumberText
import Testing

@Suite("Numbers shown to people")
struct NumberTextTests {
  @Test("a double's binary noise is never shown; tiny and huge numbers take exponents")
  func readable() {
    #expect(NumberText.of(1.0000000000000004e-06) == "1e-06")
    #expect(NumberText.of(0.30000000000000004) == "0.3")
    #expect(NumberText.of(0.5) == "0.5")
    #expect(NumberText.of(0.91324) == "0.9132")
    #expect(NumberText.of(300) == "300")
    #expect(NumberText.of(1_234_567) == "1.235e+06")
    #expect(NumberText.of(-0.0) == "0")
    #expect(NumberText.of(0.000123456, digits: 2) == "0.00012")
  }

  @Test("values that are not numbers are named")
  func nonFinite() {
    #expect(NumberText.of(.nan) == "NaN")
    #expect(NumberText.of(.infinity) == "inf")
    #expect(NumberText.of(-.infinity) == "-inf")
  }
}
