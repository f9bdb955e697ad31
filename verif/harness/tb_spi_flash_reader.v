// tb_spi_flash_reader: spi_flash_reader wired to the behavioural flash model
// (verif/models/spi_flash.v), for verif/test_spi_flash_reader.py. The pins are outputs so the
// test can watch SCK and chip select.
`default_nettype none

module tb_spi_flash_reader #(
    parameter CLK_DIV     = 1,
    parameter FAST_READ   = 0,
    parameter WAKE_CYCLES = 40,
    parameter MEM_FILE    = "",
    parameter BASE        = 0,
    parameter SIZE        = 4096,
    parameter POWER_DOWN  = 1,
    parameter T_RES1_NS   = 300
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [23:0] addr,
    input  wire        stop,
    output wire        idle,
    output wire        m_valid,
    input  wire        m_ready,
    output wire [7:0]  m_data,
    output wire        spi_sck,
    output wire        spi_cs_n
);

    wire spi_mosi, spi_miso;

    spi_flash_reader #(
        .CLK_DIV(CLK_DIV), .FAST_READ(FAST_READ), .WAKE_CYCLES(WAKE_CYCLES)
    ) u_reader (
        .clk(clk), .rst(rst), .start(start), .addr(addr), .stop(stop), .idle(idle),
        .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data),
        .spi_sck(spi_sck), .spi_cs_n(spi_cs_n), .spi_mosi(spi_mosi), .spi_miso(spi_miso)
    );

    spi_flash #(
        .MEM_FILE(MEM_FILE), .BASE(BASE), .SIZE(SIZE), .POWER_DOWN(POWER_DOWN), .T_RES1_NS(T_RES1_NS)
    ) u_flash (
        .sck(spi_sck), .cs_n(spi_cs_n), .mosi(spi_mosi), .miso(spi_miso)
    );

endmodule

`default_nettype wire
