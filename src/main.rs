#[actix_web::main]
async fn main() {
    std::process::exit(peerpath::cli::run().await);
}
