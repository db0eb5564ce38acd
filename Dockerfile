# xinsheng HTTP server image (multi-stage). CPU by default:
#   docker build -t xinsheng .
#   docker run -p 8080:8080 xinsheng
# CUDA (candle's CUDA backend, `--features cuda`):
#   docker build --build-arg VARIANT=cuda -t xinsheng:cuda .
#   docker run --gpus all -p 8080:8080 -e XINSHENG_DEVICE=cuda xinsheng:cuda
ARG VARIANT=cpu
ARG CUDA_VERSION=12.4.1

FROM rust:1-bookworm AS build-cpu

FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS build-cuda
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl build-essential pkg-config \
    && rm -rf /var/lib/apt/lists/* \
    && curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
ENV PATH=/root/.cargo/bin:$PATH

FROM build-${VARIANT} AS build
ARG VARIANT
WORKDIR /src
COPY . .
RUN if [ "$VARIANT" = cuda ]; then cargo build --release --locked --features cuda; \
    else cargo build --release --locked; fi

FROM debian:bookworm-slim AS runtime-cpu
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04 AS runtime-cuda

FROM runtime-${VARIANT}
COPY --from=build /src/target/release/xinsheng /usr/local/bin/xinsheng
COPY models/default /opt/xinsheng/models/default
ENV XINSHENG_MODEL=/opt/xinsheng/models/default \
    XINSHENG_HOST=0.0.0.0 \
    XINSHENG_PORT=8080
EXPOSE 8080
USER 65534:65534
ENTRYPOINT ["xinsheng"]
CMD ["serve"]
