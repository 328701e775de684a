import StudyModel
public import TrackingBridge

/// Maps a plain-language question onto a `QueryIntent`, deterministically and without any
/// model or network: the question is split into words, each word is normalised (case,
/// punctuation, plurals, synonyms, numbers written as words), and a small grammar of keywords
/// picks the intent; the words left over are the names (metrics, parameters) the question is
/// about. A question that no rule matches, or that has words no rule of its intent uses, is
/// not understood (`nil`).
///
///     QueryParser.parse("which run had the highest f1")
///     // .best(metric: "f1", extreme: .highest, count: 1, tier: nil)
public enum QueryParser {
  /// Questions `hpod query` answers, shown when one is not understood.
  public static let examples = [
    "which run had the highest f1",
    "top 5 runs by accuracy",
    "best val_loss in full trainings",
    "compare 3 and 7",
    "compare the last 3 runs",
    "compare the best 2 runs",
    "show the loss curve of trial 17",
    "heatmap of accuracy over lr and batch_size",
    "which parameters matter most",
    "what matters for f1",
    "how many trials failed",
    "which runs were pruned",
    "show the last 5 trials",
    "what were the params of trial 4",
    "why did trial 4 fail",
    "show the log of trial 4",
    "which model is registered",
    "how is the study going",
  ]

  public static func parse(_ question: String) -> QueryIntent? {
    let words = tokenize(question)
    guard !words.isEmpty else { return nil }
    return Grammar(words: words).intent()
  }

  // MARK: - Words

  /// A word of the question after normalisation: a keyword, a number, or a name.
  struct Word: Hashable {
    enum Kind: Hashable {
      case keyword(Keyword)
      case number(Int)
      /// A word no rule knows: a metric or parameter name, or noise.
      case name
    }

    var kind: Kind
    /// The word as the question wrote it (names keep their case).
    var text: String
    /// Written as `#17`, `trial-17` or `trial17`: surely a trial number.
    var marked = false

    var keyword: Keyword? { if case .keyword(let keyword) = kind { keyword } else { nil } }
    var number: Int? { if case .number(let number) = kind { number } else { nil } }
    var isName: Bool { kind == .name }
  }

  enum Keyword: Hashable {
    case trial, best, worst, highest, lowest, last, first, compare, versus, curve, heatmap, importance
    case howMany, params, log, stderr, model, registered, objective, summary, list, why, help
    case state(TrialState), tier(Tier)
    /// `and`, `,`, `&`, `or`: joins numbers or names.
    case and
    /// `over`, `across`, `by`, `against`: introduces heatmap axes (elsewhere a filler).
    case over
    /// Words that carry no meaning here: articles, verbs, prepositions.
    case filler
  }

  /// Words (and their plural and other forms) the grammar knows.
  static let vocabulary: [String: Keyword] = {
    var table: [String: Keyword] = [:]
    func add(_ keyword: Keyword, _ words: String) {
      for word in words.split(separator: " ") { table[String(word)] = keyword }
    }
    add(.trial, "trial trials run runs config configs configuration configurations experiment experiments job jobs")
    add(.best, "best top leading winner winning optimal greatest")
    add(.worst, "worst bottom poorest")
    add(.highest, "highest max maximum largest biggest")
    add(.lowest, "lowest min minimum smallest least")
    add(.last, "last latest recent newest")
    add(.first, "first earliest oldest")
    add(.compare, "compare comparison compared comparing diff difference differences side-by-side sidebyside")
    add(.versus, "vs vs. versus")
    add(.curve, "curve curves history plot plotted chart graph trajectory evolution evolve evolved sparkline trend")
    add(.heatmap, "heatmap heatmaps heat-map")
    add(
      .importance,
      "matter matters mattered important importance influence influences impact impacts affect affects "
        + "explain explains sensitive sensitivity drive drives")
    add(.params, "param params parameter parameters hyperparameter hyperparameters hparams settings setting")
    add(.log, "log logs output stdout")
    add(.stderr, "stderr")
    add(.model, "model models")
    add(.registered, "registered register registry champion alias aliases deployed production")
    add(.objective, "objective value values")
    add(.summary, "summary overview status going progress")
    add(.list, "list")
    add(.why, "why")
    add(.help, "help examples")
    add(.state(.failed), "failed fail fails failure failures crashed crash errored")
    add(.state(.pruned), "pruned prune stopped")
    add(.state(.completed), "completed complete finished succeeded successful done")
    add(.state(.running), "running active")
    add(.state(.pending), "pending queued waiting")
    add(.state(.timedOut), "timed_out timeout timeouts")
    add(.state(.cancelled), "cancelled canceled")
    add(.and, "and , & or")
    add(.over, "over across by against")
    add(
      .filler,
      "the a an of for in on at to with from which what whats who whose is was were are be been has had have "
        + "did does do show shows me give tell get find display print see so far most more all any every "
        + "please it its this that these those there study i my we our us you can could would should "
        + "about between how than s ran ever out early time result results among performed perform performs "
        + "performing scored still yet now currently been got achieved reached"
    )
    return table
  }()

  /// Two-word phrases that mean one keyword.
  static let phrases: [[String]: Keyword] = [
    ["how", "many"]: .howMany, ["number", "of"]: .howMany, ["count", "of"]: .howMany,
    ["heat", "map"]: .heatmap, ["side", "by"]: .compare, ["over", "time"]: .curve,
    ["quick", "test"]: .tier(.quickTest), ["quick", "tests"]: .tier(.quickTest),
    ["full", "training"]: .tier(.fullTraining), ["full", "trainings"]: .tier(.fullTraining),
    ["timed", "out"]: .state(.timedOut), ["time", "out"]: .state(.timedOut),
    ["learning", "curve"]: .curve, ["training", "curve"]: .curve,
    ["what", "can"]: .help,
  ]

  static let numberWords = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
  ]

  /// Splits a question into normalised words.
  static func tokenize(_ question: String) -> [Word] {
    var raw: [String] = []
    var current = ""
    func flush() {
      var token = current
      current = ""
      while let last = token.last, ".-".contains(last) { token.removeLast() }
      while let first = token.first, ".-".contains(first) { token.removeFirst() }
      if !token.isEmpty { raw.append(token) }
    }
    var skipping = false
    for character in question {
      if character == "'" || character == "’" || character == "‘" {
        // "trial 17's", "what's": the part after the apostrophe adds nothing.
        flush()
        skipping = true
        continue
      }
      if character.isLetter || character.isNumber || "_@./-#%".contains(character) {
        if !skipping { current.append(character) }
      } else {
        skipping = false
        flush()
        if character == "," || character == "&" || character == "×" { raw.append(String(character)) }
      }
    }
    flush()

    var words: [Word] = []
    for token in raw {
      words += classify(token)
    }
    // Two-word phrases become one keyword (the second word is dropped), except where the
    // first word was already a number or a keyword that means more.
    var merged: [Word] = []
    var index = 0
    while index < words.count {
      if index + 1 < words.count,
        let keyword = phrases[[words[index].text.lowercased(), words[index + 1].text.lowercased()]]
      {
        merged.append(Word(kind: .keyword(keyword), text: words[index].text + " " + words[index + 1].text))
        index += 2
        // "side by side": the last "side" is noise too.
        if keyword == .compare, index < words.count, words[index].text.lowercased() == "side" { index += 1 }
        continue
      }
      merged.append(words[index])
      index += 1
    }
    return merged
  }

  /// One token as one or two words: `#17` and `trial-17` are a trial word and a number.
  static func classify(_ token: String) -> [Word] {
    let lower = token.lowercased()
    if lower.hasPrefix("#"), let number = Int(lower.dropFirst()) {
      return [Word(kind: .number(number), text: token, marked: true)]
    }
    for prefix in ["trial", "run", "config"] where lower.hasPrefix(prefix) {
      let rest = lower.dropFirst(prefix.count).drop { "-#_".contains($0) }
      if !rest.isEmpty, let number = Int(rest) {
        return [
          Word(kind: .keyword(.trial), text: prefix),
          Word(kind: .number(number), text: String(rest), marked: true),
        ]
      }
    }
    if let number = Int(lower) { return [Word(kind: .number(number), text: token)] }
    if let number = numberWords.firstIndex(of: lower) { return [Word(kind: .number(number), text: token)] }
    if let keyword = vocabulary[lower] ?? vocabulary[lower.replacingOccurrences(of: "-", with: "")] {
      return [Word(kind: .keyword(keyword), text: token)]
    }
    return [Word(kind: .name, text: token)]
  }
}
