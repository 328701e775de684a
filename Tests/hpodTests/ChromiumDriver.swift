import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Headless Chromium driven through its DevTools protocol over a pipe
/// (`--remote-debugging-pipe`: the browser reads commands on descriptor 3 and writes answers
/// and events on descriptor 4, each a JSON text ended by a NUL byte). Enough of the protocol
/// for tests that hover, click and drag like a user: open a tab, evaluate script, send mouse
/// events, take screenshots. Every command is bounded in time; reads and writes run on threads
/// of their own, never on the task pool.
final class ChromiumDriver: @unchecked Sendable {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// A JSON object from the browser (JSONSerialization's, not Sendable by type).
  struct Reply: @unchecked Sendable {
    var object: [String: Any]
  }

  private let pid: pid_t
  private let input: Int32
  private let output: Int32
  private let profile: URL
  private let lock = NSLock()
  private var nextId = 0
  private var waiting: [Int: CheckedContinuation<Reply, any Error>] = [:]
  private var closed = false
  private let writes = DispatchQueue(label: "hpod.tests.chromium.write")

  init(binary: String) throws {
    profile = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-cdp-\(UUID().uuidString)")
    var toBrowser: [Int32] = [0, 0]
    var fromBrowser: [Int32] = [0, 0]
    guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe: \(errno)") }
    // Above 10 and close-on-exec: nothing else inherits them, and dup2 onto 3 and 4 cannot
    // overwrite a source.
    let childRead = fcntl(toBrowser[0], F_DUPFD_CLOEXEC, 10)
    let childWrite = fcntl(fromBrowser[1], F_DUPFD_CLOEXEC, 10)
    input = fcntl(toBrowser[1], F_DUPFD_CLOEXEC, 10)
    output = fcntl(fromBrowser[0], F_DUPFD_CLOEXEC, 10)
    for fd in toBrowser + fromBrowser { Glibc.close(fd) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, childRead, 3)
    posix_spawn_file_actions_adddup2(&actions, childWrite, 4)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let arguments = [
      binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
      "--no-first-run", "--remote-debugging-pipe", "--user-data-dir=\(profile.path)", "about:blank",
    ]
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var child: pid_t = 0
    let status = posix_spawn(&child, binary, &actions, nil, &argv, environ)
    Glibc.close(childRead)
    Glibc.close(childWrite)
    guard status == 0 else {
      Glibc.close(input)
      Glibc.close(output)
      throw Failure(description: "could not start \(binary): error \(status)")
    }
    pid = child
    Thread { [self] in readLoop() }.start()
  }

  deinit {
    try? FileManager.default.removeItem(at: profile)
  }

  /// Ends the browser and waits for it (on a thread of its own).
  func quit() async {
    lock.withLock { closed = true }
    kill(pid, SIGKILL)
    let pid = pid
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      Thread {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        continuation.resume()
      }.start()
    }
    Glibc.close(input)
  }

  private func readLoop() {
    var buffer = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = read(output, &chunk, chunk.count)
      if count <= 0 { break }
      buffer.append(contentsOf: chunk[0..<count])
      while let end = buffer.firstIndex(of: 0) {
        let message = buffer[buffer.startIndex..<end]
        buffer = Data(buffer[(end + 1)...])
        guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any],
          let id = object["id"] as? Int
        else { continue }
        let continuation = lock.withLock { waiting.removeValue(forKey: id) }
        if let error = object["error"] as? [String: Any] {
          continuation?.resume(throwing: Failure(description: "DevTools: \(error)"))
        } else {
          continuation?.resume(returning: Reply(object: object["result"] as? [String: Any] ?? [:]))
        }
      }
    }
    Glibc.close(output)
    let pending = lock.withLock {
      closed = true
      defer { waiting = [:] }
      return waiting.values
    }
    for continuation in pending { continuation.resume(throwing: Failure(description: "the browser closed its pipe")) }
  }

  /// Sends one command (to a tab's session when given) and waits up to `seconds` for its answer.
  func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil, seconds: Double = 20)
    async throws -> Reply
  {
    var message: [String: Any] = ["method": method, "params": params]
    if let session { message["sessionId"] = session }
    let id: Int = lock.withLock {
      nextId += 1
      return nextId
    }
    message["id"] = id
    var data = try JSONSerialization.data(withJSONObject: message)
    data.append(0)
    let bytes = data
    let timeout = Task { [weak self] in
      try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
      let continuation = self?.lock.withLock { self?.waiting.removeValue(forKey: id) }
      continuation?.resume(throwing: Failure(description: "\(method): no answer in \(seconds) s"))
    }
    defer { timeout.cancel() }
    return try await withCheckedThrowingContinuation { continuation in
      let refused: Bool = lock.withLock {
        if closed { return true }
        waiting[id] = continuation
        return false
      }
      if refused { return continuation.resume(throwing: Failure(description: "the browser is closed")) }
      let input = input
      writes.async {
        bytes.withUnsafeBytes { raw in
          var offset = 0
          while offset < raw.count {
            let written = write(input, raw.baseAddress! + offset, raw.count - offset)
            if written <= 0 { break }
            offset += written
          }
        }
      }
    }
  }

  /// A new tab of `width` × `height` CSS pixels.
  func open(width: Int, height: Int) async throws -> Tab {
    let target = try await send("Target.createTarget", ["url": "about:blank"])
    guard let targetId = target.object["targetId"] as? String else { throw Failure(description: "no target id") }
    let attached = try await send("Target.attachToTarget", ["targetId": targetId, "flatten": true])
    guard let session = attached.object["sessionId"] as? String else { throw Failure(description: "no session id") }
    let tab = Tab(browser: self, session: session)
    _ = try await tab.send("Page.enable")
    _ = try await tab.send("Runtime.enable")
    try await tab.resize(width: width, height: height)
    return tab
  }

  /// One tab, through its session.
  struct Tab: Sendable {
    let browser: ChromiumDriver
    let session: String

    func send(_ method: String, _ params: [String: Any] = [:], seconds: Double = 20) async throws -> Reply {
      try await browser.send(method, params, session: session, seconds: seconds)
    }

    func resize(width: Int, height: Int) async throws {
      _ = try await send(
        "Emulation.setDeviceMetricsOverride",
        ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
    }

    /// Loads `url` and waits for its load event (the page's scripts have run).
    func navigate(_ url: String, seconds: Double = 20) async throws {
      _ = try await send("Page.navigate", ["url": url])
      _ = try await waitFor(
        "document.readyState === 'complete' && location.href === \(Self.literal(url))", seconds: seconds)
    }

    /// The value of a script expression (awaited when a promise); its exception as an error.
    @discardableResult
    func evaluate(_ expression: String) async throws -> Any? {
      let reply = try await send(
        "Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
      if let exception = reply.object["exceptionDetails"] as? [String: Any] {
        let text = ((exception["exception"] as? [String: Any])?["description"] as? String) ?? "\(exception)"
        throw Failure(description: "script failed: \(text)\n\(expression)")
      }
      return (reply.object["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` every 100 ms until it is truthy, for up to `seconds`; its value.
    @discardableResult
    func waitFor(_ expression: String, seconds: Double = 10) async throws -> Any {
      let deadline = Date().addingTimeInterval(seconds)
      var last: Any?
      while Date() < deadline {
        last = try? await evaluate(expression)
        if let value = last, Self.truthy(value) { return value }
        try await Task.sleep(for: .milliseconds(100))
      }
      throw Failure(description: "waited \(seconds) s for \(expression) (last \(String(describing: last)))")
    }

    static func truthy(_ value: Any) -> Bool {
      switch value {
      case let flag as Bool: return flag
      case let number as NSNumber: return number.doubleValue != 0
      case let text as String: return !text.isEmpty
      case is NSNull: return false
      default: return true
      }
    }

    /// A JavaScript string literal.
    static func literal(_ text: String) -> String {
      let data = try? JSONSerialization.data(withJSONObject: [text])
      return data.map { String(decoding: $0.dropFirst().dropLast(), as: UTF8.self) } ?? "''"
    }

    /// A mouse event at page coordinates (CSS pixels of the viewport): `mouseMoved`,
    /// `mousePressed`, `mouseReleased`, `mouseWheel` (with `wheelY`); `pressed` while the left
    /// button is down; `modifiers` as DevTools counts them (2 ctrl, 8 shift).
    func mouse(
      _ type: String, x: Double, y: Double, pressed: Bool = false, clicks: Int = 1, modifiers: Int = 0,
      wheelY: Double = 0
    ) async throws {
      var params: [String: Any] = [
        "type": type, "x": x, "y": y, "modifiers": modifiers,
        "button": pressed || (type != "mouseMoved" && type != "mouseWheel") ? "left" : "none",
      ]
      if type != "mouseMoved" && type != "mouseWheel" { params["clickCount"] = clicks }
      if type == "mouseWheel" { (params["deltaX"], params["deltaY"]) = (0, wheelY) }
      params["buttons"] = pressed ? 1 : 0
      _ = try await send("Input.dispatchMouseEvent", params)
    }

    /// Presses at `from`, moves in steps to `to` a frame apart, as a hand would, and releases
    /// there; with `modifiers` held throughout.
    func drag(from: (Double, Double), to: (Double, Double), steps: Int = 8, modifiers: Int = 0) async throws {
      try await mouse("mouseMoved", x: from.0, y: from.1, modifiers: modifiers)
      try await mouse("mousePressed", x: from.0, y: from.1, pressed: true, modifiers: modifiers)
      for step in 1...steps {
        let t = Double(step) / Double(steps)
        try await Task.sleep(for: .milliseconds(16))
        try await mouse(
          "mouseMoved", x: from.0 + (to.0 - from.0) * t, y: from.1 + (to.1 - from.1) * t, pressed: true,
          modifiers: modifiers)
      }
      try await mouse("mouseReleased", x: to.0, y: to.1, pressed: false, modifiers: modifiers)
    }

    /// A PNG of the whole page (beyond the viewport) written to `path`.
    func screenshot(_ path: String, fullPage: Bool = true) async throws {
      let reply = try await send(
        "Page.captureScreenshot", ["format": "png", "captureBeyondViewport": fullPage], seconds: 30)
      guard let text = reply.object["data"] as? String, let data = Data(base64Encoded: text) else {
        throw Failure(description: "no screenshot")
      }
      try data.write(to: URL(fileURLWithPath: path))
      // Chromium grows the viewport to the page for the capture and back, firing no event a
      // page could see: uPlot would keep the position of its plot measured meanwhile.
      try await evaluate("window.dispatchEvent(new Event('resize'))")
    }

    /// A PNG of one element (its bounding box, scrolled into view; it must fit the window)
    /// written to `path`.
    func screenshot(_ path: String, of selector: String) async throws {
      let box = try await evaluate(
        """
        (() => { const e = document.querySelector(\(Self.literal(selector))); e.scrollIntoView({block: 'center'});
          const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()
        """)
      guard let numbers = box as? [Double], numbers.count == 4 else { throw Failure(description: "no \(selector)") }
      let reply = try await send(
        "Page.captureScreenshot",
        [
          "format": "png", "captureBeyondViewport": false,
          "clip": ["x": numbers[0], "y": numbers[1], "width": numbers[2], "height": numbers[3], "scale": 1],
        ], seconds: 30)
      guard let text = reply.object["data"] as? String, let data = Data(base64Encoded: text) else {
        throw Failure(description: "no screenshot")
      }
      try data.write(to: URL(fileURLWithPath: path))
    }
  }
}
