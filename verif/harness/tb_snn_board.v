// tb_snn_board: snn_board with the behavioural SPI flash (verif/models/spi_flash.v) holding
// the bytes of MEM_FILE from flash address BASE, for verif/test_host_link.py.
`default_nettype none

module tb_snn_board #(
    parameter N_IN             = 16,
    parameter N_HID            = 8,
    parameter N_OUT            = 3,
    parameter T                = 4,
    parameter CODE_W0          = 2,
    parameter CODE_W1          = 2,
    parameter ACC_W            = 13,
    parameter MEM_W            = 15,
    parameter SCORE_W          = 6,
    parameter [63:0] THRESHOLD = 64'd100,
    parameter LEAK_SHIFT       = 2,
    parameter RESET_SUBTRACT   = 1,
    parameter P_LIF            = 1,
    parameter CLK_HZ           = 8000000,
    parameter BAUD             = 1000000,
    parameter [23:0] NET_ADDR  = 24'h100000,
    parameter [23:0] TEST_ADDR = 24'h101000,
    parameter MEM_FILE         = "",
    parameter SIZE             = 8192
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,
    output wire       tx,
    output wire [1:0] state
);

    wire spi_sck, spi_cs_n, spi_mosi, spi_miso;

    snn_board #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(CODE_W1),
        .ACC_W(ACC_W), .MEM_W(MEM_W), .SCORE_W(SCORE_W), .THRESHOLD(THRESHOLD), .LEAK_SHIFT(LEAK_SHIFT),
        .RESET_SUBTRACT(RESET_SUBTRACT), .P_LIF(P_LIF), .W0_SPRAM(0), .CLK_HZ(CLK_HZ), .BAUD(BAUD),
        .FLASH_CLK_DIV(1), .NET_ADDR(NET_ADDR), .TEST_ADDR(TEST_ADDR)
    ) u_board (
        .clk(clk), .rst(rst), .rx(rx), .tx(tx),
        .spi_sck(spi_sck), .spi_cs_n(spi_cs_n), .spi_mosi(spi_mosi), .spi_miso(spi_miso),
        .state(state)
    );

    spi_flash #(
        .MEM_FILE(MEM_FILE), .BASE({8'd0, NET_ADDR}), .SIZE(SIZE), .POWER_DOWN(1), .T_RES1_NS(300)
    ) u_flash (
        .sck(spi_sck), .cs_n(spi_cs_n), .mosi(spi_mosi), .miso(spi_miso)
    );

endmodule

`default_nettype wire
