fn main() -> anyhow::Result<()> {
    varde::main()
}
