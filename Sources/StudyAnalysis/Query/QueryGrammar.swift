import StudyModel
import TrackingBridge

// The grammar: the rules that pick a question's intent from its normalised words.
extension QueryParser {
  /// The rules, tried in order; the first that matches decides the intent.
  struct Grammar {
    let words: [Word]

    func has(_ keyword: Keyword) -> Bool { words.contains { $0.keyword == keyword } }

    var state: TrialState? {
      words.lazy.compactMap { if case .state(let state) = $0.keyword { state } else { nil } }.first
    }

    var tier: Tier? {
      words.lazy.compactMap { if case .tier(let tier) = $0.keyword { tier } else { nil } }.first
    }

    /// Numbers that name trials: after a trial word (`trial 3`, `trials 3, 7 and 9`), or
    /// marked (`#3`, `trial-3`).
    var trialNumbers: [Int] {
      var numbers: [Int] = []
      var inList = false
      for word in words {
        if word.keyword == .trial {
          inList = true
        } else if let number = word.number, inList || word.marked {
          numbers.append(number)
          inList = true
        } else if word.keyword == .and || word.keyword == .versus {
          continue
        } else {
          inList = false
        }
      }
      return numbers
    }

    /// Numbers no trial word or ordering word claims (`compare 3 and 7`).
    var looseNumbers: [Int] {
      words.indices.compactMap { index in
        guard let number = words[index].number else { return nil }
        return isCount(at: index) ? nil : number
      }
    }

    /// A number that counts trials: right after an ordering word (`top 5`, `last 3`), or right
    /// before a trial word (`3 runs`).
    func isCount(at index: Int) -> Bool {
      guard words[index].number != nil, !words[index].marked else { return false }
      let orderings: Set<Keyword> = [.best, .worst, .highest, .lowest, .last, .first]
      if index > 0, let previous = words[index - 1].keyword, orderings.contains(previous) { return true }
      if index + 1 < words.count, words[index + 1].keyword == .trial {
        return !(index > 0 && words[index - 1].keyword == .trial)
      }
      return false
    }

    /// The count of trials the question asks for (`top 5`, `the last 3 runs`), if any.
    var count: Int? {
      words.indices.first { isCount(at: $0) }.flatMap { words[$0].number }
    }

    /// The name words, in order, as phrases split at `and`/`over`/keywords.
    var names: [Word] { words.filter(\.isName) }

    /// The words left when the given keywords (and fillers, trial words, numbers) are set
    /// aside: what a rule did not use. Names are returned separately.
    func unused(besides allowed: Set<Keyword>, states: Bool = false, tiers: Bool = false) -> [Word] {
      words.filter { word in
        guard let keyword = word.keyword else { return false }
        if case .state = keyword, states { return false }
        if case .tier = keyword { return !tiers }
        return !(allowed.contains(keyword) || [.filler, .trial, .and, .over].contains(keyword))
      }
    }

    /// One name phrase from every name word (`validation loss`), or nil when there is none.
    var namePhrase: String? {
      let text = names.map(\.text).joined(separator: " ")
      return text.isEmpty ? nil : text
    }

    /// A trial named by number, or as the best or the last.
    func trialRef(loose: Bool) -> QueryIntent.TrialRef? {
      if let number = trialNumbers.first ?? (loose ? looseNumbers.first : nil) { return .number(number) }
      if has(.best) { return .best }
      if has(.last) { return .last }
      return nil
    }

    func intent() -> QueryIntent? {
      if has(.help) && names.isEmpty { return .help }

      if has(.heatmap) {
        guard unused(besides: [.heatmap, .objective, .best, .versus], tiers: true).isEmpty else { return nil }
        return heatmap()
      }

      if has(.importance) {
        guard unused(besides: [.importance, .params, .objective, .best, .highest], tiers: true).isEmpty else {
          return nil
        }
        return .importance(metric: namePhrase, tier: tier)
      }

      if has(.compare) || (has(.versus) && trialNumbers.count + looseNumbers.count >= 2) {
        guard names.isEmpty, unused(besides: [.compare, .versus, .best, .worst, .last, .first]).isEmpty else {
          return nil
        }
        let numbers = trialNumbers.isEmpty ? looseNumbers : trialNumbers
        if !numbers.isEmpty, count == nil { return .compare(.numbers(numbers)) }
        let size = count ?? 2
        if has(.best) { return .compare(.best(size)) }
        if has(.worst) { return .compare(.worst(size)) }
        if has(.first) { return .compare(.first(size)) }
        if has(.last) { return .compare(.last(size)) }
        return nil
      }

      if has(.log) || has(.stderr) {
        guard names.isEmpty, let trial = trialRef(loose: true),
          unused(besides: [.log, .stderr, .best, .last], states: true).isEmpty
        else { return nil }
        return .log(trial: trial, stream: has(.stderr) || state == .failed ? "stderr" : "stdout")
      }

      if has(.curve) {
        guard unused(besides: [.curve, .best, .last, .objective]).isEmpty else { return nil }
        let metric = words.filter { $0.isName && !["learning", "training", "metric"].contains($0.text.lowercased()) }
          .map(\.text).joined(separator: " ")
        return .curve(trial: trialRef(loose: true) ?? .best, metric: metric.isEmpty ? nil : metric)
      }

      if has(.howMany) {
        guard names.isEmpty, unused(besides: [.howMany], states: true, tiers: true).isEmpty else {
          return nil
        }
        return .count(state: state, tier: tier)
      }

      if has(.registered) || (has(.model) && !has(.best) && !has(.highest) && !has(.lowest)) {
        guard names.isEmpty, unused(besides: [.model, .registered, .best, .last]).isEmpty else { return nil }
        return .model
      }

      if has(.why), let number = trialNumbers.first ?? looseNumbers.first {
        guard names.isEmpty, unused(besides: [.why], states: true).isEmpty else { return nil }
        return .trial(.number(number))
      }

      if has(.params), let trial = trialRef(loose: true) {
        guard names.isEmpty, unused(besides: [.params, .best, .last]).isEmpty else { return nil }
        return .trial(trial)
      }

      for (keyword, extreme) in [
        (Keyword.best, QueryIntent.Extreme.best), (.worst, .worst), (.highest, .highest), (.lowest, .lowest),
      ] where has(keyword) {
        guard unused(besides: [keyword, .objective, .params, .model], tiers: true).isEmpty else { return nil }
        return .best(metric: namePhrase, extreme: extreme, count: count ?? looseNumbers.first ?? 1, tier: tier)
      }

      if has(.summary) {
        guard names.isEmpty, unused(besides: [.summary]).isEmpty else { return nil }
        return .summary
      }

      if let number = trialNumbers.first, trialNumbers.count == 1, count == nil {
        guard names.isEmpty, unused(besides: []).isEmpty else { return nil }
        return .trial(.number(number))
      }

      if has(.trial) || has(.list) {
        guard names.isEmpty, unused(besides: [.list, .last, .first], states: true, tiers: true).isEmpty
        else { return nil }
        let selection: QueryIntent.TrialSet? =
          if has(.last) {
            .last(count ?? 1)
          } else if has(.first) {
            .first(count ?? 1)
          } else {
            nil
          }
        if selection == nil, state == nil, tier == nil, !has(.list) { return nil }
        return .trials(state: state, tier: tier, selection: selection)
      }
      return nil
    }

    /// `heatmap of METRIC over X and Y`, `heatmap X vs Y`, `METRIC heatmap by X and Y`.
    func heatmap() -> QueryIntent {
      // Split the words after the heatmap keyword into groups at every separator.
      var groups: [[Word]] = [[]]
      var axesStart: Int?
      for word in words {
        switch word.keyword {
        case .over?:
          groups.append([])
          axesStart = axesStart ?? (groups.count - 1)
        case .and?, .versus?:
          groups.append([])
        case nil where word.isName && word.text == "x" && !(groups.last?.isEmpty ?? true):
          groups.append([])
        case nil where word.isName:
          groups[groups.count - 1].append(word)
        default:
          if !(groups.last?.isEmpty ?? true) { groups.append([]) }
        }
      }
      let phrases = groups.map { $0.map(\.text).joined(separator: " ") }
      let nonEmpty = phrases.indices.filter { !phrases[$0].isEmpty }
      var metric: String?
      var axes: [String]
      if let start = axesStart {
        metric = nonEmpty.filter { $0 < start }.map { phrases[$0] }.joined(separator: " ")
        axes = nonEmpty.filter { $0 >= start }.map { phrases[$0] }
      } else if nonEmpty.count >= 3 {
        metric = phrases[nonEmpty[0]]
        axes = nonEmpty.dropFirst().map { phrases[$0] }
      } else {
        axes = nonEmpty.map { phrases[$0] }
      }
      if metric?.isEmpty ?? false { metric = nil }
      return .heatmap(metric: metric, x: axes.first, y: axes.dropFirst().first, tier: tier)
    }
  }
}
