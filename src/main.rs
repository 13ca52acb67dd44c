use clap::Parser;

fn main() {
    let cli = galvani::app::Cli::parse();
    std::process::exit(galvani::app::main_with(cli));
}
