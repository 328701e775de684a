import Testing

@testable import hpod

@Suite("Server-sent event parsing")
struct ServerSentEventParserTests {
  @Test("events split across reads at any byte, CRLF or LF, comments skipped, data lines joined")
  func anySplit() {
    let text =
      ": connected\r\n\r\nevent: trial_metrics\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\n\nevent: x\ndata:one\ndata:  two\n\ndata: plain\n\n"
    let bytes = Array(text.utf8)
    let expected: [ServerSentEventParser.Message] = [
      .init(type: "trial_metrics", data: #"{"a":1}"#), .init(type: "x", data: "one\n two"),
      .init(type: "message", data: "plain"),
    ]
    for split in 0...bytes.count {
      var parser = ServerSentEventParser()
      let messages = parser.consume(bytes[..<split]) + parser.consume(bytes[split...])
      #expect(messages == expected, "split at \(split)")
    }
  }

  @Test("an event without its blank line is not delivered yet")
  func incomplete() {
    var parser = ServerSentEventParser()
    #expect(parser.consume(Array("event: a\ndata: 1\n".utf8)).isEmpty)
    #expect(parser.consume(Array("\n".utf8)) == [.init(type: "a", data: "1")])
  }
}
