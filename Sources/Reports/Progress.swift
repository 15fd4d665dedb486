import Foundation

/// Progress of a long run (per-layer norms, per-input measurements) for a person watching
/// stderr. Reports go to stdout, so nothing here ever writes there: the output goes through
/// the injected `write` (the CLI passes stderr).
///
/// - `.bar`: a terminal. One line redrawn in place (`\r`, erase line) at most every
///   `redraw` seconds: "kappa: layer 3/10 [███░░░░░░░]  30% conv1 · 0:05, ETA 0:12". Nothing
///   is drawn during the first `delay` seconds, so a quick run shows no bar at all; a bar that
///   was drawn is replaced by a final "kappa: 10 layers in 0:12" line.
/// - `.lines`: not a terminal (a CI log, a file). A plain line when at least `interval`
///   seconds have passed since the previous one (since the start for the first), and the
///   final line only when one was printed before; `interval` 0 prints every step.
/// - `.silent`: `--quiet`.
///
/// ETA = elapsed · (total − done) / done: it assumes the remaining steps take as long as the
/// finished ones on average. Thread-safe: the norms of several layers finish on worker threads.
public final class ProgressReporter: @unchecked Sendable {
    public enum Style: Sendable, Equatable {
        case bar(width: Int = 24, redraw: Double = 0.1, delay: Double = 0.5)
        case lines(interval: Double = 10)
        case silent
    }

    public let style: Style
    /// What a step is ("layer", "input").
    public let unit: String
    private let clock: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private var start: Double?
    private var lastOutput: Double?
    private var printed = false
    private var barVisible = false
    private var last: (done: Int, total: Int)?

    /// `clock` returns seconds on any monotonic scale (tests inject their own).
    public init(style: Style, unit: String, clock: @escaping @Sendable () -> Double = ProgressReporter.monotonic,
                write: @escaping @Sendable (String) -> Void) {
        self.style = style
        self.unit = unit
        self.clock = clock
        self.write = write
    }

    /// Seconds since boot (`CLOCK_MONOTONIC`).
    @Sendable public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Marks the start of the run (the first `update` does so when this is not called).
    public func begin() {
        lock.lock(); defer { lock.unlock() }
        if start == nil { start = clock() }
    }

    /// Step `done` of `total` has finished; `item` says which (a node name, an input and its κ).
    public func update(done: Int, total: Int, item: String) {
        lock.lock(); defer { lock.unlock() }
        let now = clock()
        if start == nil { start = now }
        let elapsed = now - (start ?? now)
        last = (done, total)
        switch style {
        case .silent: return
        case let .bar(width, redraw, delay):
            guard elapsed >= delay else { return }
            if let t = lastOutput, now - t < redraw, done < total { return }
            write("\r\u{1B}[2K" + Self.barLine(unit: unit, done: done, total: total, item: item, elapsed: elapsed, width: width))
            barVisible = true
            printed = true
            lastOutput = now
        case let .lines(interval):
            let since = now - (lastOutput ?? (start ?? now))
            guard interval == 0 || since >= interval else { return }
            write(Self.plainLine(unit: unit, done: done, total: total, item: item, elapsed: elapsed) + "\n")
            printed = true
            lastOutput = now
        }
    }

    /// A message between the steps (e.g. the lower-bound search): printed above the bar on a
    /// terminal, as a line at `--progress` (`interval` 0), and subject to `interval` otherwise.
    public func log(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        let now = clock()
        if start == nil { start = now }
        switch style {
        case .silent: return
        case .bar:
            write((barVisible ? "\r\u{1B}[2K" : "") + "kappa: " + message + "\n")
            barVisible = false
        case let .lines(interval):
            let since = now - (lastOutput ?? (start ?? now))
            guard interval == 0 || since >= interval else { return }
            write("kappa: " + message + "\n")
            printed = true
            lastOutput = now
        }
    }

    /// Ends the run: replaces a visible bar by "kappa: N layers in 0:12", and prints that
    /// line after earlier plain lines; prints nothing for a run that never showed progress.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        guard printed, let last, style != .silent else { return }
        let elapsed = clock() - (start ?? clock())
        let line = "kappa: \(last.done) \(unit)\(last.done == 1 ? "" : "s") in \(Self.duration(elapsed))"
        write((barVisible ? "\r\u{1B}[2K" : "") + line + "\n")
        barVisible = false
        printed = false
    }

    // MARK: Formatting (pure)

    /// "0:07", "12:05", "1:02:03"; "–" for a negative, infinite or NaN duration.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let s = Int(seconds.rounded(.down))
        let (h, m, r) = (s / 3600, (s / 60) % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }

    /// Estimated seconds left, nil before the first step has finished.
    public static func eta(elapsed: Double, done: Int, total: Int) -> Double? {
        guard done > 0, total >= done else { return nil }
        return elapsed * Double(total - done) / Double(done)
    }

    /// "[███░░░░░░░]": `width` cells, filled in proportion to done/total (rounded down).
    public static func bar(done: Int, total: Int, width: Int) -> String {
        let filled = total > 0 ? min(width, max(0, done * width / total)) : 0
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]"
    }

    /// `item` cut to `max` characters with an ellipsis.
    static func clip(_ item: String, _ max: Int) -> String {
        item.count <= max ? item : String(item.prefix(max - 1)) + "…"
    }

    static func percent(_ done: Int, _ total: Int) -> Int { total > 0 ? 100 * done / total : 0 }

    static func timing(_ elapsed: Double, _ done: Int, _ total: Int) -> String {
        let eta = Self.eta(elapsed: elapsed, done: done, total: total).map(duration) ?? "–"
        return "\(duration(elapsed)), ETA \(eta)"
    }

    /// The terminal line: "kappa: layer 3/10 [███░░░░░░░]  30% conv1 · 0:05, ETA 0:12".
    public static func barLine(unit: String, done: Int, total: Int, item: String, elapsed: Double, width: Int = 24) -> String {
        let pct = String(format: "%3d%%", percent(done, total))
        return "kappa: \(unit) \(done)/\(total) \(bar(done: done, total: total, width: width)) \(pct) \(clip(item, 40)) · \(timing(elapsed, done, total))"
    }

    /// The log line: "kappa: layer 3/10 (30%) conv1 · 0:05, ETA 0:12".
    public static func plainLine(unit: String, done: Int, total: Int, item: String, elapsed: Double) -> String {
        "kappa: \(unit) \(done)/\(total) (\(percent(done, total))%) \(item) · \(timing(elapsed, done, total))"
    }
}
