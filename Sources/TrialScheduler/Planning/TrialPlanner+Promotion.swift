import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge

// Repeats of a configuration, and the promotion that weighs them.
extension TrialPlanner {
  /// The next repeat a configuration needs (its tier's `repeats`, a promotion candidate's,
  /// or a user's request), created as a trial of its own with the repeat's seed.
  func nextRepeat(_ studyId: Int64, _ state: inout RunState) async throws
    -> (TrialRecord, Configuration)?
  {
    guard let (tier, group, index) = state.missingRepeat(spec) else { return nil }
    let history = tier == spec.searchTier ? state.search : state.full
    let first = history.chains(of: group)[0]
    let trial = try await lifecycle.create(
      studyId: studyId, first.configuration, tier: tier, source: first.root.sourceTrialId,
      placement: .init(repeatOf: group.id, repeatIndex: index, seed: spec.seed(repeat: index)))
    state.start(trial, configuration: first.configuration)
    return (trial, first.configuration)
  }

  /// The next full training: one requested by hand, else the best quick tests once the
  /// search is done. With `promotion.repeats`, the best `candidates` are first repeated that
  /// often; with `promotion.significance`, only those their repeats show better than the
  /// other candidates go, and each verdict is published with its reason.
  func nextPromotion(_ studyId: Int64, _ state: inout RunState) async throws
    -> (TrialRecord, Configuration)?
  {
    let requested = Set(state.requestedPromotions.map { state.search.configuration(containing: $0)?.id ?? $0 })
    // A full training is a run hpod launches: an ask-and-tell study has none.
    guard !spec.isAskAndTell, spec.promotion != nil || !requested.isEmpty else { return nil }
    let searchRepeats = spec.repeats(for: spec.searchTier)
    let configurations = state.quickTestConfigurations(searchRepeats: searchRepeats)
    var policy = PromotionPolicy(promotion: spec.promotion, direction: spec.objective.direction)
    if spec.isMultiObjective, let promotion = spec.promotion {
      let front = ParetoFront.of(
        spec: spec, trials: state.search.chains.flatMap(\.attempts), finalMetrics: state.finalMetrics,
        tier: spec.searchTier)
      policy.frontOrder = front.ordered(by: promotion.pick).compactMap {
        state.search.configuration(containing: $0.trial.id!)?.id
      }
    }
    let searchDone = state.searchDone(spec)
    var withheld: Set<Int64> = []
    if let promotion = spec.promotion, promotion.mode == .afterSearch, searchDone,
      promotion.repeats > searchRepeats || promotion.significance != nil
    {
      // The candidates: the best by what the search measured, chosen once.
      let bySearch = configurations.map { configuration in
        var trial = configuration.trial
        trial.value = configuration.searchValue
        if configuration.searchValue == nil, trial.state == .completed { trial.state = .failed }
        return trial
      }
      let candidateIds = Set(policy.ranked(bySearch).prefix(promotion.candidates).map { $0.id! })
      for id in candidateIds where promotion.repeats > searchRepeats { state.candidateRepeats[id] = promotion.repeats }
      if let next = try await nextRepeat(studyId, &state) { return next }
      // Only candidates are promoted automatically, ranked by all their repeats.
      withheld = Set(configurations.map { $0.trial.id! }).subtracting(candidateIds)
      let contenders = policy.ranked(configurations.map(\.trial).filter { candidateIds.contains($0.id!) })
      if let significance = promotion.significance {
        let values = Dictionary(uniqueKeysWithValues: configurations.map { ($0.trial.id!, $0.values) })
        let contender = { (trial: TrialRecord) in
          PromotionEvidence.Contender(id: trial.id!, label: "trial \(trial.number)", values: values[trial.id!] ?? [])
        }
        let top = contenders.prefix(promotion.topK).filter { !state.promotedSources.contains($0.id!) }
        let verdicts = PromotionEvidence(significance: significance, direction: spec.objective.direction).judge(
          top: top.map(contender), rest: contenders.dropFirst(promotion.topK).map(contender),
          baseline: try registeredBaseline())
        for verdict in verdicts {
          if !verdict.promote { withheld.insert(verdict.id) }
          try publish(verdict, &state, configurations: configurations.map { ($0.trial, $0.values) })
        }
      }
    }
    guard
      let source = policy.candidates(
        quickTests: configurations.map(\.trial), promotedSources: state.promotedSources, searchDone: searchDone,
        requested: requested, withheld: withheld
      ).first,
      let group = state.search.configuration(id: source.id!)
    else { return nil }
    let configuration = state.search.chains(of: group)[0].configuration
    let trial = try await lifecycle.create(
      studyId: studyId, configuration, tier: .fullTraining, source: source.id,
      placement: .init(seed: spec.seed(repeat: 0)))
    state.start(trial, configuration: configuration)
    onEvent(.trialPromoted(quickTest: source, fullTraining: trial))
    return (trial, configuration)
  }

  /// Records a verdict once per runner: a tag on the quick test (mirrored) and an event.
  private func publish(
    _ verdict: PromotionEvidence.Verdict, _ state: inout RunState,
    configurations: [(trial: TrialRecord, values: [Double])]
  ) throws {
    guard !state.judged.contains(verdict.id), let trial = configurations.first(where: { $0.trial.id == verdict.id })
    else { return }
    state.judged.insert(verdict.id)
    try database.setTags(trialId: verdict.id, [HpodTag.promotion: verdict.reason])
    logger.info("\(verdict.reason)", metadata: ["study": "\(spec.name)"])
    onEvent(.promotionJudged(trial.trial, promoted: verdict.promote, reason: verdict.reason))
  }

  /// The quick test behind the model registered now under the registration's name (its
  /// alias's version, else the latest), with its repeats' values, when it ran in this store.
  func registeredBaseline() throws -> PromotionEvidence.Contender? {
    guard let registration = spec.registration else { return nil }
    let versions = try database.modelVersions(named: registration.model)
    let aliased = try registration.alias.flatMap { alias in
      try database.modelAliases(named: registration.model).first { $0.alias == alias }?.version
    }
    guard
      let current = versions.first(where: { $0.version == aliased }) ?? versions.max(by: { $0.version < $1.version }),
      let full = try database.trial(id: current.trialId), let sourceId = full.sourceTrialId,
      let source = try database.trial(id: sourceId)
    else { return nil }
    let members = try database.configurationTrials(configurationId: source.configurationId!)
    let values = RepeatGroups.values(members)[source.configurationId!] ?? []
    return PromotionEvidence.Contender(
      id: source.configurationId!, label: "the registered \(registration.model) v\(current.version)", values: values)
  }
}
