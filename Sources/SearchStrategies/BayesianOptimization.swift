import Foundation
public import StudyModel
import Synchronization

/// Gaussian-process Bayesian optimization (like Optuna's `GPSampler`).
///
/// - The first `startupTrials` suggestions (and any made before two observations have values)
///   are scrambled-Halton points.
/// - Then a GP with a Matern-5/2 ARD kernel (see `GaussianProcess`) is fitted to the
///   losses of the finished observations (sign flipped when maximizing), power-transformed
///   and standardized (see `OutputWarping`; `outputWarping = false` only standardizes). Failed
///   trials, and pruned ones without a value, are imputed as the worst value seen, which
///   steers the search away from them; a pruned trial with a value counts with that value.
/// - Output warping: a second GP is fitted to the power-transformed losses (Box-Cox, or
///   Yeo-Johnson when a loss is ≤ 0; see `OutputWarping`), and the one whose log marginal
///   likelihood plus log prior plus the warp's log-Jacobian is higher, i.e. the model that
///   explains the raw losses better, is used. This helps on losses spanning orders of
///   magnitude without hurting where the plain GP fits better. From 200 observations on, a
///   decision is reused (only its GP fitted) until the history has grown by 5% (see
///   `WarpChoices`).
/// - Beyond `DataSubset.exactLimit` (500) observations, the GP is conditioned on a subset of
///   400 of them: the best, the nearest to the incumbent and a spread of the rest (see
///   `DataSubset`), so that a suggestion costs about the same at 1,000 or 10,000 observations.
/// - Kernel hyperparameters and noise maximize the log marginal likelihood plus a weak prior
///   (analytic gradients, L-BFGS, multi-start; see `fitHyperparameters`).
/// - The next configuration minimizes the lower confidence bound μ − 1.96σ of the GP's
///   posterior (see `Acquisition`, `AcquisitionOptimizer`): on the benchmark suite's
///   multimodal functions it beat log expected improvement over 20 seeds.
/// - Pending trials, and the ones already chosen in the same call, are handled by the kriging
///   believer: they join the training data with the posterior mean as their value (the
///   hyperparameters stay), which collapses the variance there so parallel suggestions spread.
///
/// Warm start: each fit is kept (hyperparameters and L-BFGS curvature pairs) in a small cache
/// of the strategy instance (its copies share it), keyed by a fingerprint of the training data. A call whose data extends a
/// cached fit's data continues L-BFGS from there (plus the default start while n ≤ 100), for
/// at most `warmIterations(n)` iterations: 60 for small histories, 1 from n = 275 on, so the
/// hyperparameters keep converging over the study while a large-history suggestion stays
/// cheap; from n = 275 on that iteration runs only once the history grew by 2% since the
/// cached fit (`refitInterval`), the calls in between conditioning the GP with the cached
/// hyperparameters. A call with exactly the cached data reuses the fit, so repeated calls on one history
/// agree. A cold fit (first call, or a restarted process) runs up to 200 iterations from up to
/// three starts; from 6 dimensions on, every fit up to 100 observations also restarts from
/// short and long lengthscales (×0.1, ×10 of the default). Consequently suggestions are
/// deterministic for a seed and history within one instance; a new instance (a restarted process) fits cold first and may settle on slightly
/// different hyperparameters than the long-running one had, so the suggestions can differ.
public struct BayesianOptimization: SearchStrategy {
  public var seed: UInt64
  public var startupTrials: Int
  /// Quasi-random candidates scored per suggestion before local refinement.
  public var candidates: Int
  /// Power-transform the losses before the GP fit (see `OutputWarping`).
  public var outputWarping = true
  /// What the next configuration maximizes (see `Acquisition`): the lower confidence bound
  /// μ − 1.96σ, negated; `.logEI` was the default before (kept for comparison).
  var acquisition = Acquisition.lowerConfidenceBound
  /// When a warped-or-plain decision is reused instead of fitting both GPs (see `WarpChoices`).
  var warpReuse = WarpChoices.Policy()
  /// This instance's decisions, shared by its copies.
  private(set) var warpChoices = WarpChoices()
  /// This instance's fits for warm starts, shared by its copies (one strategy per study, so
  /// studies in one process neither share nor evict each other's fits).
  private(set) var fitCache = FitCache()
  /// The caches of each model of a multi-objective search (see `slot(_:)`).
  let slotCaches = SlotCaches()
  /// How several objectives, or one under constraints, are searched: expected hypervolume
  /// improvement weighted by the probability of feasibility (see `HypervolumeSearch.swift`),
  /// or ParEGO's random scalarizations on one GP (`Scalarization`; also used beyond three
  /// objectives, where the boxes of EHVI multiply).
  public var multiObjectiveAcquisition = MultiObjectiveAcquisition.expectedHypervolume

  public init(seed: UInt64 = 0, startupTrials: Int = 10, candidates: Int = 2048) {
    self.seed = seed
    self.startupTrials = Swift.max(startupTrials, 0)
    self.candidates = Swift.max(candidates, 16)
  }

  public var name: String { "bayes" }

  /// Throws `SearchStrategyError(.numerical, …)` when the GP's linear algebra fails even after
  /// the jitter escalation (e.g. non-finite objective values).
  public func suggest(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    do {
      let objectives = Self.objectiveCount(context)
      let constraints = Self.constraintCount(context)
      if multiObjectiveAcquisition == .expectedHypervolume, objectives <= 3, objectives > 1 || constraints > 0 {
        guard count > 0 else { return [] }
        return try suggestByHypervolume(count, in: context, objectives: objectives, constraints: constraints)
      }
      // ParEGO (and beyond three objectives): one scalarized loss per suggestion. With
      // constraints broken, log EI: the penalized losses are steep at the feasibility boundary,
      // where the confidence bound keeps buying uncertainty in infeasible regions (C2-DTLZ2's
      // median hypervolume over 10 seeds: 0.106 with it, 0.225 with log EI; bench/multi_objective).
      var strategy = self
      if Scalarization.hasViolations(context) { strategy.acquisition = .logEI }
      return try strategy.suggestOrThrow(count, in: Scalarization.scalarized(context, seed: seed))
    } catch let error as LinearAlgebraError {
      throw SearchStrategyError(.numerical, "Gaussian process failed: \(error)")
    }
  }

  private func suggestOrThrow(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    guard count > 0 else { return [] }
    var result = try startupSuggestions(count, in: context)
    guard result.count < count else { return result }

    let encoding = SpaceEncoding(context.space)
    let (all, data, hyperparameters, gp) = try model(context, encoding: encoding)
    let anchors = data.bestInputs.map(encoding.unitPoint)
    // Observed, pending and already chosen configurations, as GP inputs (`encode` reads values
    // by number, so JSON round trips do not matter).
    let d = encoding.dimension
    var excluded = Set(stride(from: 0, to: all.x.count, by: Swift.max(d, 1)).map { Array(all.x[$0..<($0 + d)]) })
    var believed = context.pending + result
    excluded.formUnion(believed.map(encoding.encode))

    for offset in result.count..<count {
      let index = context.suggestedCount + offset
      // Kriging believer: pending points enter with their posterior mean, as if observed; the
      // incumbent includes those believed values, so a believed point offers no improvement.
      var model = gp
      var best = data.best
      if !believed.isEmpty {
        let inputs = believed.map(encoding.encode)
        let (mean, _) = try gp.posterior(inputs.flatMap { $0 })
        model = try GaussianProcess(
          x: data.x + inputs.flatMap { $0 }, y: data.y + mean, isCategorical: encoding.isCategorical,
          hyperparameters: hyperparameters, believed: inputs.count)
        best = Swift.min(best, mean.min() ?? best)
      }
      // Pending trials keep the sequential exploration weight (κ = 1.96). A smaller one (κ = 1,
      // the default before) helped with 3 pending on the analytic suite (Levy-10 0.50 → 0.34,
      // Michalewicz-5 0.85 → 0.75 median normalized regret, 10 seeds), but in batches of 8 it
      // piled each batch onto the incumbent's plateau: below random search's expected best on
      // svc-digits and knn-iris, 0.15 → 0.61 mean median score over the 9 problems of
      // bench/sklearn_tuning (bench/README.md). The believer alone spreads the batch.
      var optimizer = AcquisitionOptimizer(
        surface: PosteriorAcquisition(gp: model, acquisition: acquisition, best: best), encoding: encoding)
      let n = model.count
      // Scoring costs n² per candidate and a refinement step 2n²: fewer of both for large n.
      optimizer.candidateCount =
        n > 200 ? Swift.min(candidates, 256) : n > 100 ? Swift.min(candidates, 1024) : candidates
      optimizer.perturbationsPerScale = n > 200 ? 8 : 16
      optimizer.localSearches = n > 600 ? 2 : n > 200 ? 3 : n > 100 ? 5 : 10
      optimizer.localIterations = n > 600 ? 10 : n > 200 ? 15 : n > 100 ? 25 : 40
      guard
        let configuration = try optimizer.suggestion(seed: seed, index: index, anchors: anchors, excluded: excluded)
      else { break }
      result.append(configuration)
      excluded.insert(encoding.encode(configuration))
      believed.append(configuration)
    }
    return result
  }

  /// Startup: the quasi-random sequence of the same seed (deduplicated the same way), for the
  /// first `startupTrials` suggestions and until two observations have values. Past it, not
  /// even asked for none: it would canonicalize the whole history to deduplicate.
  func startupSuggestions(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    let valued = context.observations.filter { $0.value?.isFinite == true && $0.state != .failed }
    let startup =
      valued.count < 2 ? count : Swift.min(count, Swift.max(startupTrials - context.suggestedCount, 0))
    return startup > 0 ? try QuasiRandomSearch(seed: seed).suggest(startup, in: context) : []
  }

  /// This strategy with the fit and warp caches of model slot `index` (one per objective and
  /// constraint of a multi-objective search), so the models' warm starts do not evict each
  /// other.
  func slot(_ index: Int) -> BayesianOptimization {
    var copy = self
    (copy.fitCache, copy.warpChoices) = slotCaches.caches(index)
    return copy
  }

  /// The training data and fitted GP: on the standardized losses, or (with `outputWarping`)
  /// on the power-transformed ones when that GP's log marginal likelihood (plus log prior)
  /// plus the warp's log-Jacobian is higher, i.e. when it explains the raw losses better.
  /// On long histories a recent decision is reused and only its GP fitted (see `WarpChoices`).
  func model(_ context: SearchContext, encoding: SpaceEncoding) throws -> (
    all: TrainingData, used: TrainingData, hyperparameters: GPHyperparameters, gp: GaussianProcess
  ) {
    let d = encoding.dimension
    @Sendable func fitted(_ all: TrainingData, warmStart: FitCache.Entry? = nil, iterationScale: Int = 1) throws
      -> Fitted
    {
      // Beyond `DataSubset.exactLimit` observations, the GP sees the subset S only.
      let used =
        all.count > DataSubset.exactLimit
        ? all.subset(
          DataSubset.indices(
            x: all.x, y: all.y, dimension: d, isCategorical: encoding.isCategorical, size: DataSubset.size),
          dimension: d) : all
      let (entry, model) = Self.fit(
        used, cacheKey: all, encoding: encoding, cache: fitCache, warmStart: warmStart, iterationScale: iterationScale)
      let gp =
        try model
        ?? GaussianProcess(
          x: used.x, y: used.y, isCategorical: encoding.isCategorical, hyperparameters: entry.hyperparameters)
      let logJacobian = used.logJacobians.reduce(0, +)
      return Fitted(
        all: all, used: used, fit: entry, gp: gp,
        score: gp.logMarginalLikelihood + entry.hyperparameters.logPrior().value + logJacobian)
    }
    let plain = trainingData(context, encoding: encoding)
    guard outputWarping else { return try fitted(plain).model }
    let n = plain.count
    let prefixes = FitCache.prefixFingerprints(plain, dimension: d, salt: encoding.space.hashValue)
    let previous = warpChoices.decision(extending: prefixes)
    if let previous, warpReuse.reuses(decidedAt: previous.count, count: n) {
      return try fitted(previous.warped ? trainingData(context, encoding: encoding, warped: true) : plain).model
    }
    let warped = trainingData(context, encoding: encoding, warped: true)
    guard warped.y != plain.y else { return try fitted(plain).model }
    // The GP that lost the previous decision was not refitted since: it continues from its fit
    // then, with the iterations it missed (see `WarpChoices`).
    let missed = previous.map { Swift.min(Swift.max(n - $0.count, 1), warpReuse.catchUp) } ?? 1
    // The two fits are independent: one per core.
    let results = ResultSlots<Fitted>(count: 2)
    DispatchQueue.concurrentPerform(iterations: 2) { k in
      let stale = previous.map { $0.warped != (k == 1) } ?? false
      results[k] = Result {
        try fitted(
          k == 0 ? plain : warped, warmStart: stale ? previous?.loser : nil, iterationScale: stale ? missed : 1)
      }
    }
    let plainFit = try results[0]!.get()
    let chosen: Fitted
    let loser: Fitted
    if case .success(let warpedFit) = results[1]!, warpedFit.score > plainFit.score {
      (chosen, loser) = (warpedFit, plainFit)
    } else {
      // A failed warped fit leaves no loser's fit to keep: decide afresh next time.
      guard case .success(let warpedFit) = results[1]! else { return plainFit.model }
      (chosen, loser) = (plainFit, warpedFit)
    }
    warpChoices.record(
      WarpChoices.Decision(count: n, fingerprint: prefixes[n], warped: chosen.all.warped, loser: loser.fit))
    return chosen.model
  }

  /// One fitted GP and its score (log marginal likelihood + log prior + the warp's
  /// log-Jacobian: a log density of the raw losses).
  struct Fitted {
    var all: TrainingData
    var used: TrainingData
    var fit: FitCache.Entry
    var gp: GaussianProcess
    var score: Double

    var model: (all: TrainingData, used: TrainingData, hyperparameters: GPHyperparameters, gp: GaussianProcess) {
      (all, used, fit.hyperparameters, gp)
    }
  }

  /// The GP's training set: encoded inputs and standardized (by default warped) losses, with
  /// imputations.
  struct TrainingData {
    var x: [Double]
    var y: [Double]
    /// The losses before standardization (imputations included).
    var losses: [Double]
    /// The best standardized loss among real (not imputed) values.
    var best: Double
    /// Inputs of the best few observations, anchors for local candidates.
    var bestInputs: [[Double]]
    /// Whether `y` is power-transformed (see `OutputWarping`) or only standardized.
    var warped: Bool
    /// log |∂yᵢ/∂lossᵢ| for each observation.
    var logJacobians: [Double]
    var count: Int { y.count }
  }

  func trainingData(_ context: SearchContext, encoding: SpaceEncoding, warped: Bool = false) -> TrainingData {
    // A configuration run several times enters once per repeat, at the same input: the
    // fitted noise variance is then what the repeats disagree by, and the posterior mean at
    // that point tends to their mean as repeats accumulate.
    let points = context.observations.flatMap { observation -> [(Configuration, Double?)] in
      guard observation.state != .failed else { return [(observation.configuration, nil)] }
      guard observation.samples.count > 1 else { return [(observation.configuration, observation.value)] }
      return observation.samples.map { (observation.configuration, $0) }
    }
    var losses: [Double?] = points.map { _, value in
      guard let value, value.isFinite else { return nil }
      return context.direction.loss(value)
    }
    let known = losses.compactMap { $0 }
    let worst = known.max() ?? 0
    let imputed = losses.map { $0 == nil }
    losses = losses.map { $0 ?? worst }
    let raw = losses.map { $0! }
    let (y, logJacobians) =
      warped
      ? {
        let w = OutputWarping.warp(raw); return (w.warped, w.logJacobians)
      }() : OutputWarping.standardize(raw)
    let inputs = points.map { encoding.encode($0.0) }
    let ranked = y.indices.filter { !imputed[$0] }.sorted { y[$0] < y[$1] }
    return TrainingData(
      x: inputs.flatMap { $0 }, y: y, losses: raw, best: ranked.first.map { y[$0] } ?? (y.min() ?? 0),
      bestInputs: ranked.prefix(5).map { inputs[$0] }, warped: warped, logJacobians: logJacobians)
  }

  /// L-BFGS iterations of a warm fit: 60 up to n = 100, then shrinking as 1/n² (an iteration
  /// costs O(n³)) down to 1 from n = 275 on, which keeps large-history suggestions fast. The optimization
  /// carries on across calls from where the last one stopped, curvature pairs included, so the
  /// hyperparameters keep converging as the study runs.
  static func warmIterations(_ n: Int) -> Int {
    n <= 100 ? 60 : Swift.max(1, 150_000 / (n * n))
  }

  /// How much a long history must have grown since its last fit before the hyperparameters
  /// are fitted again: every call below 275 observations, then every 2% (6 observations at
  /// 300, 20 at 1,000); in between, the last fit's hyperparameters condition the GP on the
  /// whole history. One observation more among hundreds hardly moves the likelihood's
  /// optimum, and a fit step costs O(n³) where conditioning costs one Cholesky factorization.
  static func refitInterval(_ n: Int) -> Int {
    n < 275 ? 1 : n / 50
  }

  /// Fits the hyperparameters, warm-starting from the cache (see the type's documentation)
  /// or from `warmStart` when that fit is of a longer prefix of the history. Returns the fit
  /// (also stored in the cache) and the conditioned GP when the fit built it at the optimum.
  /// `data` is what the GP is fitted on; `cacheKey` the whole history it comes from (the
  /// same, up to `DataSubset.exactLimit` observations), whose prefixes key the cache. A warm
  /// fit runs `iterationScale` times `warmIterations` iterations (at most 60).
  static func fit(
    _ data: TrainingData, cacheKey: TrainingData, encoding: SpaceEncoding, cache: FitCache,
    warmStart: FitCache.Entry? = nil, iterationScale: Int = 1
  ) -> (fit: FitCache.Entry, model: GaussianProcess?) {
    let d = encoding.dimension
    let n = cacheKey.count
    let prefixes = FitCache.prefixFingerprints(
      cacheKey, dimension: d, salt: encoding.space.hashValue ^ (cacheKey.warped ? 0x5A5A_5A5A : 0))
    var cached = cache.lookup(prefixes)
    if let warmStart, warmStart.count < prefixes.count, prefixes[warmStart.count] == warmStart.fingerprint,
      warmStart.count > cached?.count ?? -1
    {
      cached = warmStart
    }
    if let cached, cached.count == n || n - cached.count < refitInterval(n) { return (cached, nil) }
    var starts: [GPHyperparameters] = []
    if let cached { starts.append(cached.hyperparameters) }
    let initial = GPHyperparameters.initial(dimension: d)
    if cached == nil || n <= 100 { starts.append(initial) }
    // Short and long lengthscales as further starts: on a cold fit, and from 6 dimensions on
    // at every fit up to 100 observations, where d + 2 hyperparameters on few points leave
    // several optima of the likelihood (Levy-10: see bench/strategies/README.md).
    if (cached == nil && n <= 200) || (d >= 6 && n <= 100) {
      for factor in [0.1, 10.0] {
        var start = initial
        start.inverseSquaredLengthscales = start.inverseSquaredLengthscales.map { $0 * factor }
        starts.append(start)
      }
    }
    let (fitted, _, curvature, model) = GaussianProcess.fitHyperparameters(
      x: data.x, y: data.y, isCategorical: encoding.isCategorical, starts: starts,
      maxIterations: cached == nil ? 200 : Swift.min(Self.warmIterations(data.count) * iterationScale, 60),
      curvature: cached?.curvature ?? LBFGS.Curvature())
    let entry = FitCache.Entry(fingerprint: prefixes[n], count: n, hyperparameters: fitted, curvature: curvature)
    cache.store(entry)
    return (entry, model)
  }
}

/// See `BayesianOptimization.multiObjectiveAcquisition`.
public enum MultiObjectiveAcquisition: String, Sendable, Hashable, CaseIterable {
  case expectedHypervolume = "ehvi"
  case parEGO = "parego"
}

extension SearchStrategy where Self == BayesianOptimization {
  /// GP Bayesian optimization after `startupTrials` quasi-random trials.
  public static func bayes(seed: UInt64 = 0, startupTrials: Int = 10) -> BayesianOptimization {
    BayesianOptimization(seed: seed, startupTrials: startupTrials)
  }
}
