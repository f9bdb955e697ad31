// board_tb: the iCEBreaker as the simulations see it: icebreaker_top (as synthesised; build with
// ICESPIKE_SIM_NO_PLL so CLK drives the engine clock directly) wired to the behavioural SPI flash
// model, which holds the bytes of a `board build` flash.bin at flash address FLASH_BASE.
// The ports are the board's own pins; verif/board_bridge.py drives CLK, BTN_N and RX and
// watches TX and the LEDs. The flash contents come from the run-time argument +flash=FILE (one
// hex byte per line, the first at FLASH_BASE; icespike.board.sim writes it from flash.bin), read
// at the first falling CLK edge, before the design can have sent a flash command: one
// simulator build serves every flash image. ICESPIKE_GATE: the top is a gate-level netlist.
`default_nettype none

module board_tb #(
    parameter CLK_HZ     = 48000000,   // engine clock (the bridge drives CLK at this rate)
    parameter BAUD       = 3000000,    // UART baud rate of the host link
    parameter FLASH_BASE = 32'h0010_0000, // flash address of the file's first byte (network image)
    parameter FLASH_SIZE = 524288      // bytes of flash the model holds from FLASH_BASE
) (
    input  wire CLK,        // 12 MHz pin on the board; the engine clock here (PLL bypassed)
    input  wire BTN_N,      // user button, active low
    input  wire RX,         // UART into the FPGA
    output wire TX,         // UART out of the FPGA
    output wire LEDR_N,     // red LED, active low
    output wire LEDG_N,     // green LED, active low
    output wire LED_RED_N,  // RGB LED, active low
    output wire LED_GRN_N,
    output wire LED_BLU_N
);
    wire flash_sck, flash_ssb, flash_mosi, flash_miso;

`ifdef ICESPIKE_GATE
    icebreaker_top u_top (  // gate-level netlist: parameters were fixed at synthesis
`else
    icebreaker_top #(
        .CLK_HZ (CLK_HZ),
        .BAUD   (BAUD)
    ) u_top (
`endif
        .CLK       (CLK),
        .BTN_N     (BTN_N),
        .RX        (RX),
        .TX        (TX),
        .LEDR_N    (LEDR_N),
        .LEDG_N    (LEDG_N),
        .LED_RED_N (LED_RED_N),
        .LED_GRN_N (LED_GRN_N),
        .LED_BLU_N (LED_BLU_N),
        .FLASH_SCK (flash_sck),
        .FLASH_SSB (flash_ssb),
        .FLASH_IO0 (flash_mosi),
        .FLASH_IO1 (flash_miso)
    );

    spi_flash #(
        .MEM_FILE (""),
        .BASE     (FLASH_BASE),
        .SIZE     (FLASH_SIZE)
    ) u_flash (
        .sck  (flash_sck),
        .cs_n (flash_ssb),
        .mosi (flash_mosi),
        .miso (flash_miso)
    );

    reg [8*1024-1:0] flash_file;
    reg              flash_loaded = 1'b0;
    always @(negedge CLK) begin
        if (!flash_loaded) begin
            flash_loaded <= 1'b1;
            if ($value$plusargs("flash=%s", flash_file)) $readmemh(flash_file, u_flash.mem);
        end
    end
endmodule

`default_nettype wire
