import Foundation
import Reports
import Testing

/// A clock the test moves by hand and a sink that records what the reporter wrote.
final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t = 100.0
    func now() -> Double { lock.lock(); defer { lock.unlock() }; return t }
    func advance(_ s: Double) { lock.lock(); t += s; lock.unlock() }
}

final class Sink: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func write(_ s: String) { lock.lock(); parts.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return parts }
    var text: String { all.joined() }
}

func reporter(_ style: ProgressReporter.Style, unit: String = "layer") -> (ProgressReporter, FakeClock, Sink) {
    let clock = FakeClock(), sink = Sink()
    let r = ProgressReporter(style: style, unit: unit, clock: { clock.now() }, write: { sink.write($0) })
    return (r, clock, sink)
}

struct ProgressTests {
    @Test func durations() {
        #expect(ProgressReporter.duration(0) == "0:00")
        #expect(ProgressReporter.duration(7.9) == "0:07")
        #expect(ProgressReporter.duration(65) == "1:05")
        #expect(ProgressReporter.duration(725) == "12:05")
        #expect(ProgressReporter.duration(3723) == "1:02:03")
        #expect(ProgressReporter.duration(-1) == "–" && ProgressReporter.duration(.infinity) == "–" && ProgressReporter.duration(.nan) == "–")
    }

    @Test func etaIsTheMeanStepTimeTimesTheStepsLeft() {
        #expect(ProgressReporter.eta(elapsed: 10, done: 0, total: 4) == nil)
        #expect(ProgressReporter.eta(elapsed: 10, done: 2, total: 6) == 20)
        #expect(ProgressReporter.eta(elapsed: 9, done: 3, total: 3) == 0)
        #expect(ProgressReporter.eta(elapsed: 9, done: 4, total: 3) == nil)
    }

    @Test func barCells() {
        #expect(ProgressReporter.bar(done: 0, total: 10, width: 10) == "[░░░░░░░░░░]")
        #expect(ProgressReporter.bar(done: 3, total: 10, width: 10) == "[███░░░░░░░]")
        #expect(ProgressReporter.bar(done: 2, total: 3, width: 4) == "[██░░]")  // 8/3 rounded down
        #expect(ProgressReporter.bar(done: 10, total: 10, width: 10) == "[██████████]")
        #expect(ProgressReporter.bar(done: 5, total: 0, width: 3) == "[░░░]")
    }

    @Test func lineFormats() {
        #expect(ProgressReporter.barLine(unit: "layer", done: 3, total: 10, item: "conv1", elapsed: 5, width: 10)
                == "kappa: layer 3/10 [███░░░░░░░]  30% conv1 · 0:05, ETA 0:11")
        #expect(ProgressReporter.plainLine(unit: "input", done: 1, total: 4, item: "#0", elapsed: 70)
                == "kappa: input 1/4 (25%) #0 · 1:10, ETA 3:30")
        let long = String(repeating: "n", count: 60)
        let line = ProgressReporter.barLine(unit: "layer", done: 1, total: 2, item: long, elapsed: 0, width: 4)
        #expect(line.contains(String(repeating: "n", count: 39) + "…") && !line.contains(String(repeating: "n", count: 40)))
    }

    /// On a terminal: nothing during the first 0.5 s, then one redraw (\r, erase line) at
    /// most every 0.1 s, the last step always, and a summary line replacing the bar.
    @Test func terminalBar() {
        let (r, clock, sink) = reporter(.bar(width: 4, redraw: 0.1, delay: 0.5))
        r.begin()
        clock.advance(0.2)
        r.update(done: 1, total: 4, item: "a")  // within the delay: hidden
        #expect(sink.all.isEmpty)
        clock.advance(0.4)
        r.update(done: 2, total: 4, item: "b")  // 0.6 s
        clock.advance(0.05)
        r.update(done: 3, total: 4, item: "c")  // 0.05 s after the last redraw: skipped
        clock.advance(0.01)
        r.update(done: 4, total: 4, item: "d")  // the last step: drawn
        clock.advance(1.0)
        r.finish()
        #expect(sink.all == [
            "\r\u{1B}[2Kkappa: layer 2/4 [██░░]  50% b · 0:00, ETA 0:00",
            "\r\u{1B}[2Kkappa: layer 4/4 [████] 100% d · 0:00, ETA 0:00",
            "\r\u{1B}[2Kkappa: 4 layers in 0:01\n",
        ])
        r.finish()
        #expect(sink.all.count == 3)  // finish is idempotent
    }

    @Test func terminalQuickRunShowsNothing() {
        let (r, clock, sink) = reporter(.bar())
        r.begin()
        for i in 1...5 { clock.advance(0.05); r.update(done: i, total: 5, item: "x") }
        r.finish()
        #expect(sink.all.isEmpty)
    }

    /// A message clears the bar and prints above it; the bar comes back at the next step.
    @Test func terminalLogClearsTheBar() {
        let (r, clock, sink) = reporter(.bar(width: 2, redraw: 0, delay: 0))
        r.update(done: 1, total: 2, item: "a")
        r.log("lower bound: centre")
        clock.advance(3)
        r.update(done: 2, total: 2, item: "b")
        #expect(sink.all == [
            "\r\u{1B}[2Kkappa: layer 1/2 [█░]  50% a · 0:00, ETA 0:00",
            "\r\u{1B}[2Kkappa: lower bound: centre\n",
            "\r\u{1B}[2Kkappa: layer 2/2 [██] 100% b · 0:03, ETA 0:00",
        ])
    }

    /// Not a terminal: a plain line once `interval` seconds have passed since the previous
    /// one, no escape codes, and a summary only after a line was printed.
    @Test func plainLinesAreOccasional() {
        let (r, clock, sink) = reporter(.lines(interval: 10), unit: "input")
        r.begin()
        for i in 1...30 {
            clock.advance(1)
            r.update(done: i, total: 30, item: "#\(i - 1)")
        }
        r.finish()
        #expect(sink.all == [
            "kappa: input 10/30 (33%) #9 · 0:10, ETA 0:20\n",
            "kappa: input 20/30 (66%) #19 · 0:20, ETA 0:10\n",
            "kappa: input 30/30 (100%) #29 · 0:30, ETA 0:00\n",
            "kappa: 30 inputs in 0:30\n",
        ])
        #expect(!sink.text.contains("\u{1B}") && !sink.text.contains("\r"))
    }

    @Test func plainLinesQuickRunShowsNothing() {
        let (r, clock, sink) = reporter(.lines(interval: 10))
        r.begin()
        for i in 1...3 { clock.advance(1); r.update(done: i, total: 3, item: "x") }
        r.log("lower bound: centre")
        r.finish()
        #expect(sink.all.isEmpty)
    }

    @Test func everyStepWithIntervalZero() {
        let (r, _, sink) = reporter(.lines(interval: 0))
        for i in 1...3 { r.update(done: i, total: 3, item: "n\(i)") }
        r.log("msg")
        r.finish()
        #expect(sink.all.count == 5)
        #expect(sink.all[0] == "kappa: layer 1/3 (33%) n1 · 0:00, ETA 0:00\n")
        #expect(sink.all[3] == "kappa: msg\n" && sink.all[4] == "kappa: 3 layers in 0:00\n")
    }

    @Test func silentWritesNothing() {
        let (r, clock, sink) = reporter(.silent)
        for i in 1...3 { clock.advance(100); r.update(done: i, total: 3, item: "x"); r.log("m") }
        r.finish()
        #expect(sink.all.isEmpty)
    }

    /// Steps finishing on several threads (as the per-layer norms do) each count once.
    @Test func concurrentUpdates() async {
        let (r, _, sink) = reporter(.lines(interval: 0))
        await withTaskGroup(of: Void.self) { g in
            for i in 1...64 { g.addTask { r.update(done: i, total: 64, item: "t") } }
        }
        #expect(sink.all.count == 64)
        #expect(Set(sink.all).count == 64)
    }
}
