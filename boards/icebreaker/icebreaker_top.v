// icebreaker_top: the network engine as a board for the iCEBreaker (iCE40UP5K-SG48):
// 12 MHz oscillator -> SB_PLL40_PAD -> engine clock CLK_HZ; power-on reset and the user
// button (BTN_N, synchronised) reset everything; after reset the network image is booted
// from the SPI flash (offset 0x100000) and the host talks over the FTDI UART at BAUD
// (rtl/snn_board.v, docs/board.md). LEDs: LEDG_N ready, LEDR_N error; RGB LED blue while
// booting, green ready, red error.
// The network parameters come from the exported net_params.vh (`SNN_* macros), as in
// synth/top_engine.v. `ifdef ICESPIKE_SIM_NO_PLL the PLL is bypassed: CLK drives the engine
// clock directly (simulation and gate-level runs drive CLK at CLK_HZ).
// PLL (DIVR 0, FILTER_RANGE 1, simple feedback): CLK_HZ = 12 MHz * (DIVF + 1) / 2^DIVQ with
// DIVQ 4 from 33.75 MHz (CLK_HZ a multiple of 750 kHz, up to 66 MHz) and DIVQ 5 below (a
// multiple of 375 kHz, from 16.875 MHz), the VCO between 540 and 1056 MHz. `icepll -i 12 -o 24`
// (fpga-icestorm) gives DIVF 71, DIVQ 5 for the default 27 MHz; -o 48: DIVF 63, DIVQ 4.
// The default is 27 MHz: the ternary and binary 784-128-10 boards close at about 30 MHz
// (nextpnr-ice40, UP5K; the host link's frame logic is the critical path), not at 48 MHz.
`default_nettype none
`include "net_params.vh"

module icebreaker_top #(
    parameter CLK_HZ = 27000000,  // engine clock (the PLL output)
    parameter BAUD   = 3000000    // UART; CLK_HZ / BAUD integer >= 8
) (
    input  wire CLK,        // 12 MHz (CLK_HZ with ICESPIKE_SIM_NO_PLL)
    input  wire BTN_N,      // user button, active low: reset
    input  wire RX,         // UART into the FPGA
    output wire TX,         // UART out of the FPGA
    output wire LEDR_N,     // red LED: error
    output wire LEDG_N,     // green LED: ready
    output wire LED_RED_N,  // RGB LED
    output wire LED_GRN_N,
    output wire LED_BLU_N,
    output wire FLASH_SCK,
    output wire FLASH_SSB,
    output wire FLASH_IO0,  // MOSI
    input  wire FLASH_IO1   // MISO
);

    localparam integer DIVQ_I = (CLK_HZ >= 33750000) ? 4 : 5;
    localparam integer STEP   = (DIVQ_I == 4) ? 750000 : 375000;   // 12 MHz / 2^DIVQ
    localparam integer DIVF_I = CLK_HZ / STEP - 1;
    localparam [6:0]   DIVF   = DIVF_I[6:0];
    localparam [2:0]   DIVQ   = DIVQ_I[2:0];

`ifndef SYNTHESIS
    initial begin
        if (CLK_HZ % BAUD != 0 || CLK_HZ / BAUD < 8) begin
            $display("icebreaker_top: CLK_HZ / BAUD must be an integer >= 8 (CLK_HZ %0d, BAUD %0d)", CLK_HZ, BAUD);
            $finish;
        end
`ifndef ICESPIKE_SIM_NO_PLL
        if (CLK_HZ % STEP != 0 || DIVF_I < 44 || DIVF_I > 87) begin
            $display("icebreaker_top: the PLL cannot make %0d Hz from 12 MHz (16.875..66 MHz, see the header)",
                     CLK_HZ);
            $finish;
        end
`endif
    end
`endif

    // ------------------------------------------------------------------ clock
    wire clk;
    wire pll_lock;
`ifdef ICESPIKE_SIM_NO_PLL
    assign clk      = CLK;
    assign pll_lock = 1'b1;
`else
    SB_PLL40_PAD #(
        .FEEDBACK_PATH("SIMPLE"),
        .DIVR(4'b0000),
        .DIVF(DIVF),
        .DIVQ(DIVQ),
        .FILTER_RANGE(3'b001)
    ) u_pll (
        .PACKAGEPIN  (CLK),
        .PLLOUTGLOBAL(clk),
        .RESETB      (1'b1),
        .BYPASS      (1'b0),
        .LOCK        (pll_lock),
        .EXTFEEDBACK (1'b0),
        .DYNAMICDELAY(8'd0),
        .LATCHINPUTVALUE(1'b0),
        .SDI         (1'b0),
        .SCLK        (1'b0)
        /* verilator lint_off PINCONNECTEMPTY */
        ,.PLLOUTCORE ()
        ,.SDO ()
        /* verilator lint_on PINCONNECTEMPTY */
    );
`endif

    // ------------------------------------------------------------------ reset
    // power-on: 1024 cycles after the PLL locks (flip-flops start at 0 after configuration);
    // the button through a two-flip-flop synchroniser
    reg [10:0] por_q = 11'd0;
    reg        btn_m = 1'b0, btn_s = 1'b0;
    reg        rst_q = 1'b1;
    always @(posedge clk) begin
        btn_m <= BTN_N;
        btn_s <= btn_m;
        if (~pll_lock) por_q <= 11'd0;
        else if (~por_q[10]) por_q <= por_q + 11'd1;
        rst_q <= ~por_q[10] | ~btn_s;
    end

    // ------------------------------------------------------------------ the board
    wire [1:0] state;
    snn_board #(
        .N_IN          (`SNN_N_IN),
        .N_HID         (`SNN_N_HID),
        .N_OUT         (`SNN_N_OUT),
        .T             (`SNN_T),
        .CODE_W0       (`SNN_CODE_W0),
        .CODE_W1       (`SNN_CODE_W1),
        .ACC_W         (`SNN_ACC_W),
        .MEM_W         (`SNN_MEM_W),
        .SCORE_W       (`SNN_SCORE_W),
        .THRESHOLD     (`SNN_THRESHOLD),
        .LEAK_SHIFT    (`SNN_LEAK_SHIFT),
        .RESET_SUBTRACT(`SNN_RESET_SUBTRACT),
        .P_LIF         (1),
        .W0_SPRAM      (1),
        .CLK_HZ        (CLK_HZ),
        .BAUD          (BAUD),
        .FLASH_CLK_DIV (1),
        .NET_ADDR      (24'h100000),
        .TEST_ADDR     (24'h140000)
    ) u_board (
        .clk(clk), .rst(rst_q), .rx(RX), .tx(TX),
        .spi_sck(FLASH_SCK), .spi_cs_n(FLASH_SSB), .spi_mosi(FLASH_IO0), .spi_miso(FLASH_IO1),
        .state(state)
    );

    // ------------------------------------------------------------------ LEDs
    reg booting_q, ready_q, error_q;
    always @(posedge clk) begin
        booting_q <= (state == 2'd0);
        ready_q   <= (state == 2'd1);
        error_q   <= (state == 2'd2);
    end
    assign LEDG_N = ~ready_q;
    assign LEDR_N = ~error_q;
`ifdef SYNTHESIS
    SB_RGBA_DRV #(
        .CURRENT_MODE("0b1"),          // half current
        .RGB0_CURRENT("0b000001"),     // 2 mA (red)
        .RGB1_CURRENT("0b000001"),     // green
        .RGB2_CURRENT("0b000001")      // blue
    ) u_rgb (
        .CURREN  (1'b1),
        .RGBLEDEN(1'b1),
        .RGB0PWM (error_q),
        .RGB1PWM (ready_q),
        .RGB2PWM (booting_q),
        .RGB0    (LED_RED_N),
        .RGB1    (LED_GRN_N),
        .RGB2    (LED_BLU_N)
    );
`else
    assign LED_RED_N = ~error_q;
    assign LED_GRN_N = ~ready_q;
    assign LED_BLU_N = ~booting_q;
`endif

endmodule

`default_nettype wire
