/// Mean: the variadic elementwise mean of its inputs with broadcasting (see Variadic).
enum Mean {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try Variadic.make(c, .mean) }
}
